package server

import (
	"context"

	"github.com/gotd/td/bin"

	"github.com/filedc/filedc/internal/layer"
	"github.com/filedc/filedc/internal/store"
)

// Rule S5: each client is answered in the layer it declared. The layer is
// remembered on the auth key, because a client's later connections (GramJS
// opens a second one for files) use the same key without invokeWithLayer.

// callLayer is the layer bridge for one call, nil when the client speaks the
// server's layer.
type callLayer struct {
	bridge  *layer.Bridge
	declare int // a layer newly declared by this call, to persist; 0 if none
}

// layerOf takes the layer a call declares (0: none), or else the one its
// key remembers. It runs in message order (before the call's goroutine
// starts), so the calls after an invokeWithLayer see its layer.
func (s *Server) layerOf(k *Key, declaredNow int) callLayer {
	var cl callLayer
	declared := k.Record().Layer
	if declaredNow > 0 && declaredNow != declared {
		k.Update(func(r *store.AuthKey) { r.Layer = declaredNow })
		declared, cl.declare = declaredNow, declaredNow
	}
	cl.bridge = s.cfg.Layers.For(declared)
	return cl
}

// persistLayer stores a newly declared layer with the key.
func (s *Server) persistLayer(ctx context.Context, k *Key) error {
	return s.cfg.Keys.PutAuthKey(ctx, k.Record())
}

// errLayerRequest answers a call that does not decode in its layer.
var errLayerRequest = &RPCError{Code: 400, Message: "INPUT_REQUEST_INVALID"}

// typeIDer is what tg's answers implement.
type typeIDer interface{ TypeID() uint32 }

// translateAnswer turns an answer in the server's layer into the client's.
// Answers the client's layer shares byte for byte (upload.file, most of the
// file path) are returned as they are, still encoded straight into the
// encryption buffer.
func translateAnswer(br *layer.Bridge, call *layer.Call, res bin.Encoder) (bin.Encoder, error) {
	if t, ok := res.(typeIDer); ok && br.PassAnswer(call, t.TypeID()) {
		return res, nil
	}
	var b bin.Buffer
	err := res.Encode(&b)
	if r, ok := res.(Releaser); ok {
		r.Release()
	}
	if err != nil {
		return nil, err
	}
	out := &bin.Buffer{Buf: make([]byte, 0, len(b.Buf)+len(b.Buf)/8)}
	if err := br.Answer(call, b.Buf, out); err != nil {
		return nil, err
	}
	return rawAnswer(out.Buf), nil
}
