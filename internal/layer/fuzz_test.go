package layer

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// TestS5_DecoderBounds: vectors longer than their bytes and nesting past
// the depth limit are refused before anything is allocated for them.
func TestS5_DecoderBounds(t *testing.T) {
	s := Default().Schema(ServerLayer)
	// messages.getMessages with a vector claiming a billion elements.
	var b bin.Buffer
	b.PutID(tg.MessagesGetMessagesRequestTypeID)
	b.PutID(vectorID)
	b.PutInt(1 << 30)
	b.PutID(tg.InputMessageIDTypeID)
	b.PutInt(1)
	if _, err := s.DecodeQuery(b.Buf); !errors.Is(err, errVectorLen) {
		t.Fatalf("long vector: %v", err)
	}
	// jsonArray nested deeper than maxDepth, as help.saveAppLog's params.
	var deep bin.Buffer
	for i := 0; i < maxDepth+5; i++ {
		deep.PutID(tg.JSONArrayTypeID)
		deep.PutID(vectorID)
		deep.PutInt(1)
	}
	deep.PutID(tg.JSONNullTypeID)
	if _, _, err := s.Decode(deep.Buf, &TypeRef{Kind: KindBoxed, Name: "JSONValue"}); !errors.Is(err, errDepth) {
		t.Fatalf("deep nesting: %v", err)
	}
	// Truncated input, unknown ids and a constructor of the wrong type.
	full := encode(t, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, Media: &tg.InputMediaEmpty{}, Message: "m", RandomID: 1})
	for n := 0; n < len(full); n++ {
		if _, err := s.DecodeQuery(full[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: decoded", n)
		}
	}
	wrong := bytes.Clone(full)
	copy(wrong[4:], encode(t, &tg.InputUserSelf{})) // an InputUser where an InputPeer goes
	if _, err := s.DecodeQuery(wrong); err == nil {
		t.Fatal("wrong type decoded")
	}
	if _, err := s.DecodeQuery([]byte{1, 2, 3, 4}); err == nil {
		t.Fatal("unknown id decoded")
	}
}

// FuzzBridge feeds the generic decoder and the translation of requests and
// answers arbitrary bytes: errors are fine, panics and runaway allocation
// are not, and whatever decodes re-encodes to a prefix-equal form.
func FuzzBridge(f *testing.F) {
	for _, a := range answers() {
		f.Add(encode(f, a.v))
	}
	f.Add(encode(f, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, Media: &tg.InputMediaEmpty{}, Message: "m", RandomID: 1}))
	f.Add(encode(f, &tg.InvokeWithLayerRequest{Layer: 198, Query: &tg.HelpGetConfigRequest{}}))
	r := Default()
	br := r.For(198)
	getMessages := &Call{Name: "messages.getMessages", ServerResult: br.Server.Function("messages.getMessages").Result,
		ClientResult: br.Client.Function("messages.getMessages").Result}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range r.Layers() {
			s := r.Schema(l)
			if q, err := s.DecodeQuery(data); err == nil {
				var b bin.Buffer
				if err := s.Encode(&b, q, queryType); err != nil {
					t.Fatalf("layer %d: decoded query does not encode: %v", l, err)
				}
			}
		}
		// A call that passes as it is is the handler's to check.
		if out, _, err := br.Request(data); err == nil && !bytes.Equal(out, data) {
			if _, err := br.Server.DecodeQuery(out); err != nil {
				t.Fatalf("translated request does not decode: %v", err)
			}
		}
		var out bin.Buffer
		if br.Answer(getMessages, data, &out) == nil {
			if _, _, err := br.Client.Decode(out.Buf, getMessages.ClientResult); err != nil {
				t.Fatalf("translated answer does not decode: %v", err)
			}
		}
	})
}
