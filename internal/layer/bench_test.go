package layer

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// BenchmarkS5_Bridge512K: what the bridge costs a 512 KiB getFile for a
// layer 198 client: "pass" is the path the server takes (the request and
// the answer pass, nothing copied); "translate" decodes and re-encodes the
// same call and answer as if they differed between the layers.
func BenchmarkS5_Bridge512K(b *testing.B) {
	br := Default().For(198)
	req := encode(b, &tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 1}, Limit: 512 << 10})
	file := &tg.UploadFile{Type: &tg.StorageFilePartial{}, Mtime: 1, Bytes: make([]byte, 512<<10)}
	answer := encode(b, file)
	b.Run("pass", func(b *testing.B) {
		b.SetBytes(int64(len(answer)))
		for i := 0; i < b.N; i++ {
			_, call, err := br.Request(req)
			if err != nil || !br.PassAnswer(call, file.TypeID()) {
				b.Fatal("not passed", err)
			}
		}
	})
	b.Run("translate", func(b *testing.B) {
		up := converter{src: br.Client, dst: br.Server}
		down := converter{src: br.Server, dst: br.Client}
		res := br.Server.Function("upload.getFile").Result
		b.SetBytes(int64(len(answer)))
		out := &bin.Buffer{}
		for i := 0; i < b.N; i++ {
			q, err := br.Client.DecodeQuery(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := up.value(q, queryType, queryType, 0); err != nil {
				b.Fatal(err)
			}
			v, _, err := br.Server.Decode(answer, res)
			if err != nil {
				b.Fatal(err)
			}
			w, err := down.value(v, res, res, 0)
			if err != nil {
				b.Fatal(err)
			}
			out.Reset()
			if err := br.Client.Encode(out, w, res); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpenPack is what a start costs: reading the built-in pack's
// index, no layer parsed.
func BenchmarkOpenPack(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenPack(packedSchemas, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstClientOfALayer is what the first client of a layer costs:
// unpacking its file, parsing it and the server's, building the bridge.
// The oldest layer is the far end of the stream.
func BenchmarkFirstClientOfALayer(b *testing.B) {
	for _, l := range []int{133, 198, 228} {
		b.Run(strconv.Itoa(l), func(b *testing.B) {
			b.ReportAllocs()
			var heap uint64
			for b.Loop() {
				r, err := OpenPack(packedSchemas, nil)
				if err != nil {
					b.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				if r.For(l) == nil {
					b.Fatal("no bridge")
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = after.HeapAlloc - before.HeapAlloc
				runtime.KeepAlive(r)
			}
			b.ReportMetric(float64(heap)/(1<<20), "MiB-kept")
		})
	}
}
