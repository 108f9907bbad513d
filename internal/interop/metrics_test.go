package interop

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gotd/td/tg"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// freeHTTPAddr returns a loopback address nothing listens on now, for
// --http.
func freeHTTPAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// httpGet fetches url with an optional bearer token and returns the status
// and body.
func httpGet(t testing.TB, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// scrape is one parsed /metrics answer.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t testing.TB, addr, token string) scrape {
	t.Helper()
	code, body := httpGet(t, "http://"+addr+"/metrics", token)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return mfs
}

// value returns the value of the series of name with labels ("k=v"), and
// whether it exists; a histogram gives its count.
func (s scrape) value(name string, labels ...string) (float64, bool) {
	mf := s[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.Metric {
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// TestO3_MetricsAfterTraffic drives a real filedc with gotd (parts of known
// sizes, a finalization, a download, a finalization with a part missing,
// wrong bot tokens up to their flood limit) and checks that /metrics counts
// exactly that, behind --http-token, with no account or file id in a label.
func TestO3_MetricsAfterTraffic(t *testing.T) {
	httpAddr := freeHTTPAddr(t)
	const token = "metrics-token"
	srv := startServer(t, "--http", httpAddr, "--http-token", token)

	const partSize = 128 << 10
	fileA := randomBytes(31, 3*partSize+1000)
	fileC := randomBytes(32, 3*partSize)
	var saved, saves int
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		save := func(fileID int64, part int, data []byte) error {
			ok, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: fileID, FilePart: part, Bytes: data})
			if err != nil || !ok {
				return fmt.Errorf("saveFilePart %d/%d: %v %v", fileID, part, ok, err)
			}
			saved += len(data)
			saves++
			return nil
		}
		for i := 0; i*partSize < len(fileA); i++ {
			if err := save(1001, i, fileA[i*partSize:min(len(fileA), (i+1)*partSize)]); err != nil {
				return err
			}
		}
		doc, err := uploadDoc(ctx, api, &tg.InputFile{ID: 1001, Parts: 4, Name: "a.bin"})
		if err != nil {
			return fmt.Errorf("uploadMedia: %w", err)
		}
		got, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Precise: true, Limit: 512 << 10,
			Location: &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}})
		if err != nil {
			return fmt.Errorf("getFile: %w", err)
		}
		if f, ok := got.(*tg.UploadFile); !ok || len(f.Bytes) != len(fileA) {
			return fmt.Errorf("getFile answered %T", got)
		}
		// Parts 0 and 2 of 3: finalizing says FILE_PART_1_MISSING.
		for _, i := range []int{0, 2} {
			if err := save(1002, i, fileC[i*partSize:(i+1)*partSize]); err != nil {
				return err
			}
		}
		if _, err := uploadDoc(ctx, api, &tg.InputFile{ID: 1002, Parts: 3, Name: "c.bin"}); rpcErr(err) != "400 FILE_PART_1_MISSING" {
			return fmt.Errorf("finalizing with a part missing: %s", rpcErr(err))
		}
		// Wrong bot tokens: ten are allowed from one address, the next is
		// answered FLOOD_WAIT_X.
		for i := range 11 {
			_, err := api.AuthImportBotAuthorization(ctx, &tg.AuthImportBotAuthorizationRequest{
				APIID: 1, APIHash: "x", BotAuthToken: "7000001:wrong"})
			want := "400 ACCESS_TOKEN_INVALID"
			if i == 10 {
				want = "420 FLOOD_WAIT_"
			}
			if !strings.HasPrefix(rpcErr(err), want) {
				return fmt.Errorf("wrong token %d: %s, want %s", i, rpcErr(err), want)
			}
		}
		return nil
	})

	if code, _ := httpGet(t, "http://"+httpAddr+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	if code, _ := httpGet(t, "http://"+httpAddr+"/metrics", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	if code, _ := httpGet(t, "http://"+httpAddr+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz without the token: %d, want 200", code)
	}
	m := scrapeMetrics(t, httpAddr, token)
	layer := strconv.Itoa(tg.Layer)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"filedc_rpc_calls_total", []string{"method=upload.saveFilePart", "code=200", "error=OK"}, float64(saves)},
		{"filedc_rpc_call_duration_seconds", []string{"method=upload.saveFilePart"}, float64(saves)},
		{"filedc_rpc_calls_total", []string{"method=messages.uploadMedia", "code=200", "error=OK"}, 1},
		{"filedc_rpc_calls_total", []string{"method=messages.uploadMedia", "code=400", "error=FILE_PART_X_MISSING"}, 1},
		{"filedc_rpc_calls_total", []string{"method=upload.getFile", "code=200", "error=OK"}, 1},
		{"filedc_rpc_calls_total", []string{"method=auth.importBotAuthorization", "code=400", "error=ACCESS_TOKEN_INVALID"}, 10},
		{"filedc_rpc_calls_total", []string{"method=auth.importBotAuthorization", "code=420", "error=FLOOD_WAIT_X"}, 1},
		{"filedc_limited_total", []string{"limit=bot_login_failures"}, 1},
		{"filedc_limited_total", []string{"limit=account_requests"}, 0},
		{"filedc_parts_saved_total", nil, float64(saves)},
		{"filedc_bytes_saved_total", nil, float64(saved)},
		{"filedc_bytes_served_total", nil, float64(len(fileA))},
		{"filedc_finalizations_total", []string{"result=ok"}, 1},
		{"filedc_finalizations_total", []string{"result=error"}, 1},
		{"filedc_finalization_duration_seconds", nil, 2},
		{"filedc_uploads_open", nil, 1},
		{"filedc_temp_parts", nil, 2},
		{"filedc_temp_bytes", nil, 2 * partSize},
		{"filedc_temp_budget_bytes", nil, 4 << 30},
		{"filedc_parts_in_flight", nil, 0},
		{"filedc_evictions_total", []string{"reason=budget"}, 0},
		{"filedc_store_errors_total", []string{"store=temp"}, 0},
		{"filedc_auth_keys_created_total", nil, 1},
		{"filedc_connections_total", []string{"transport=intermediate", "obfuscated=false"}, 1},
		{"filedc_info", []string{"dc=2"}, 1},
	} {
		got, ok := m.value(c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// The client has gone; its session is kept, under gotd's layer.
	if got, ok := m.value("filedc_sessions_by_layer", "layer="+layer); !ok || got < 1 {
		t.Errorf("filedc_sessions_by_layer{layer=%s} = %v", layer, got)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := m.value(name); !ok {
			t.Errorf("%s missing", name)
		}
	}
	// Bounded labels: no account or file id anywhere.
	for name, mf := range m {
		for _, s := range mf.Metric {
			for _, l := range s.Label {
				for _, id := range []string{"7000001", "1001", "1002"} {
					if strings.Contains(l.GetValue(), id) {
						t.Errorf("%s{%s=%q} carries an id", name, l.GetName(), l.GetValue())
					}
				}
			}
		}
	}
}
