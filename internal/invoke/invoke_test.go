package invoke

import (
	"bytes"
	"slices"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

func encode(t testing.TB, e bin.Encoder) []byte {
	var b bin.Buffer
	if err := e.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Buf
}

func initConn(q bin.Object) *tg.InitConnectionRequest {
	r := &tg.InitConnectionRequest{APIID: 17, DeviceModel: "dev", SystemVersion: "sys", AppVersion: "1.0",
		SystemLangCode: "en", LangCode: "en", Query: q}
	r.SetProxy(tg.InputClientProxy{Address: "proxy", Port: 1080})
	r.SetParams(&tg.JSONObject{Value: []tg.JSONObjectValue{{Key: "tz", Value: &tg.JSONString{Value: "UTC"}}}})
	return r
}

// Rule S5: every wrapper is taken off, nested in the orders real clients
// send them, and what each asks for is kept.
func TestS5_UnwrapEveryWrapperInClientOrders(t *testing.T) {
	query := &tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 9}, Limit: 1 << 19}
	history := &tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerSelf{}, Limit: 100}
	for _, tc := range []struct {
		name   string
		call   bin.Encoder
		inner  bin.Encoder
		check  func(Wrappers) bool
		layers []string
	}{
		{"plain (GramJS's file connection)", query, query, func(w Wrappers) bool { return w.Layer == 0 && w.Init == nil }, nil},
		{"GramJS, Telethon, gotd: invokeWithLayer(initConnection(q))",
			&tg.InvokeWithLayerRequest{Layer: 144, Query: initConn(query)}, query,
			func(w Wrappers) bool {
				return w.Layer == 144 && w.Init != nil && w.Init.APIID == 17 && w.Init.AppVersion == "1.0" && w.Init.DeviceModel == "dev"
			},
			[]string{"invokeWithLayer", "initConnection"}},
		{"gotd with NoUpdates: invokeWithoutUpdates(invokeWithLayer(initConnection(q)))",
			&tg.InvokeWithoutUpdatesRequest{Query: &tg.InvokeWithLayerRequest{Layer: 229, Query: initConn(query)}}, query,
			func(w Wrappers) bool { return w.Layer == 229 && w.WithoutUpdates && w.Init != nil },
			[]string{"invokeWithoutUpdates", "invokeWithLayer", "initConnection"}},
		{"TDLib: invokeAfterMsg(invokeWithLayer(initConnection(invokeWithoutUpdates(q))))",
			&tg.InvokeAfterMsgRequest{MsgID: 1 << 40, Query: &tg.InvokeWithLayerRequest{Layer: 198,
				Query: initConn(&tg.InvokeWithoutUpdatesRequest{Query: query})}}, query,
			func(w Wrappers) bool {
				return w.Layer == 198 && w.WithoutUpdates && slices.Equal(w.AfterMsgs, []int64{1 << 40})
			},
			[]string{"invokeAfterMsg", "invokeWithLayer", "initConnection", "invokeWithoutUpdates"}},
		{"TDLib's sequences: invokeAfterMsgs(q)",
			&tg.InvokeAfterMsgsRequest{MsgIDs: []int64{4, 8, 12}, Query: query}, query,
			func(w Wrappers) bool { return slices.Equal(w.AfterMsgs, []int64{4, 8, 12}) },
			[]string{"invokeAfterMsgs"}},
		{"Telegram Desktop's export: invokeWithTakeout(invokeWithMessagesRange(messages.getHistory))",
			&tg.InvokeWithTakeoutRequest{TakeoutID: 55, Query: &tg.InvokeWithMessagesRangeRequest{
				Range: tg.MessageRange{MinID: 1, MaxID: 100}, Query: history}}, history,
			func(w Wrappers) bool {
				return w.HasTakeout && w.Takeout == 55 && w.MessagesRange != nil && w.MessagesRange.MaxID == 100
			},
			[]string{"invokeWithTakeout", "invokeWithMessagesRange"}},
		{"a takeout with id 0", &tg.InvokeWithTakeoutRequest{Query: query}, query,
			func(w Wrappers) bool { return w.HasTakeout && w.Takeout == 0 }, []string{"invokeWithTakeout"}},
		{"Android: invokeWithGooglePlayIntegrity(q)",
			&tg.InvokeWithGooglePlayIntegrityRequest{Nonce: "n", Token: "t", Query: query}, query,
			func(w Wrappers) bool { return w.Integrity }, []string{"invokeWithGooglePlayIntegrity"}},
		{"iOS: invokeWithApnsSecret(q)",
			&tg.InvokeWithApnsSecretRequest{Nonce: "n", Secret: "s", Query: query}, query,
			func(w Wrappers) bool { return w.Integrity }, []string{"invokeWithApnsSecret"}},
		{"invokeWithReCaptcha(q)", &tg.InvokeWithReCaptchaRequest{Token: "t", Query: query}, query,
			func(w Wrappers) bool { return w.Integrity }, []string{"invokeWithReCaptcha"}},
		{"bots: invokeWithBusinessConnection(q)",
			&tg.InvokeWithBusinessConnectionRequest{ConnectionID: "c1", Query: query}, query,
			func(w Wrappers) bool { return w.BusinessConnection == "c1" }, []string{"invokeWithBusinessConnection"}},
		{"the innermost layer wins",
			&tg.InvokeWithLayerRequest{Layer: 133, Query: &tg.InvokeWithLayerRequest{Layer: 178, Query: query}}, query,
			func(w Wrappers) bool { return w.Layer == 178 }, []string{"invokeWithLayer", "invokeWithLayer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := encode(t, tc.call)
			w, inner, err := Unwrap(body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(inner, encode(t, tc.inner)) {
				t.Fatal("the query inside is not the one sent")
			}
			if len(inner) > 0 && &inner[len(inner)-1] != &body[len(body)-1] {
				t.Fatal("the query was copied")
			}
			if !tc.check(w) || !slices.Equal(w.Names, tc.layers) {
				t.Fatalf("wrappers %+v", w)
			}
		})
	}
}

// Rule S5 with S7a: wrappers are bounded: too deep a nesting, an
// invokeAfterMsgs naming more calls than may wait, a wrapper cut short or
// one with nothing inside are errors, read without allocating by the
// client's numbers.
func TestS5_UnwrapBounds(t *testing.T) {
	var q bin.Object = &tg.HelpGetConfigRequest{}
	for range MaxDepth + 1 {
		q = &tg.InvokeWithoutUpdatesRequest{Query: q}
	}
	if _, _, err := Unwrap(encode(t, q)); err != ErrTooDeep {
		t.Errorf("%d wrappers: %v", MaxDepth+1, err)
	}
	q = &tg.HelpGetConfigRequest{}
	for range MaxDepth {
		q = &tg.InvokeWithoutUpdatesRequest{Query: q}
	}
	if _, _, err := Unwrap(encode(t, q)); err != nil {
		t.Errorf("%d wrappers: %v", MaxDepth, err)
	}

	many := encode(t, &tg.InvokeAfterMsgsRequest{MsgIDs: make([]int64, MaxAfterMsgs+1), Query: &tg.HelpGetConfigRequest{}})
	if _, _, err := Unwrap(many); err == nil {
		t.Error("invokeAfterMsgs over the bound was read")
	}
	// A vector that claims 2^31-1 ids in a 20-byte body.
	var b bin.Buffer
	b.PutID(tg.InvokeAfterMsgsRequestTypeID)
	b.PutVectorHeader(1<<31 - 1)
	b.PutLong(1)
	allocs := testing.AllocsPerRun(10, func() { Unwrap(b.Buf) })
	if _, _, err := Unwrap(b.Buf); err == nil || allocs > 8 {
		t.Errorf("a huge invokeAfterMsgs: %v, %v allocations", err, allocs)
	}

	full := encode(t, &tg.InvokeWithLayerRequest{Layer: 144, Query: initConn(&tg.HelpGetConfigRequest{})})
	for n := 0; n < len(full)-4; n++ {
		if _, _, err := Unwrap(full[:n]); err == nil {
			t.Fatalf("a wrapper cut at %d bytes was read", n)
		}
	}
	empty := encode(t, &tg.InvokeWithLayerRequest{Layer: 144, Query: &tg.InvokeWithoutUpdatesRequest{Query: &tg.HelpGetConfigRequest{}}})
	if _, _, err := Unwrap(empty[:len(empty)-4]); err == nil {
		t.Error("a wrapper with nothing inside was read")
	}
}

// FuzzUnwrap: any bytes unwrap or fail; what comes out lies inside what
// went in.
func FuzzUnwrap(f *testing.F) {
	q := &tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 9}, Limit: 1 << 19}
	for _, call := range []bin.Encoder{
		q,
		&tg.InvokeWithLayerRequest{Layer: 144, Query: initConn(q)},
		&tg.InvokeAfterMsgsRequest{MsgIDs: []int64{1, 2}, Query: &tg.InvokeWithoutUpdatesRequest{Query: q}},
		&tg.InvokeWithTakeoutRequest{TakeoutID: 5, Query: &tg.InvokeWithMessagesRangeRequest{Query: q}},
		&tg.InvokeWithGooglePlayIntegrityRequest{Query: &tg.InvokeWithApnsSecretRequest{Query: &tg.InvokeWithReCaptchaRequest{Query: q}}},
	} {
		var b bin.Buffer
		call.Encode(&b)
		f.Add(b.Buf)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, inner, err := Unwrap(body)
		if err != nil {
			return
		}
		if len(inner) > len(body) || !bytes.Equal(inner, body[len(body)-len(inner):]) {
			t.Fatal("the query is not a tail of the body")
		}
		if len(w.Names) > MaxDepth || len(w.AfterMsgs) > MaxDepth*MaxAfterMsgs {
			t.Fatalf("%d wrappers, %d msg_ids", len(w.Names), len(w.AfterMsgs))
		}
	})
}
