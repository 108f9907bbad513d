package layer

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gotd/td/bin"
)

// Bridge translates between a client's layer and the server's.
type Bridge struct {
	Client, Server *Schema
	// up holds the ids whose every value the client can send has the same
	// bytes and meaning in the server's layer; down the same for what the
	// server sends to the client. Those pass without translation.
	up, down map[uint32]bool
	calls    map[uint32]*Call // for the functions that pass up
}

// NewBridge compares two schemas once.
func NewBridge(client, server *Schema) *Bridge {
	br := &Bridge{Client: client, Server: server, up: passable(client, server), down: passable(server, client),
		calls: make(map[uint32]*Call)}
	for id := range br.up {
		if c := client.byID[id]; c.Function {
			br.calls[id] = &Call{Name: c.Name, ClientResult: c.Result, ServerResult: server.byID[id].Result}
		}
	}
	return br
}

// PassesUp reports whether a function or constructor the client sends
// reaches the server unchanged.
func (br *Bridge) PassesUp(id uint32) bool { return br.up[id] }

// PassesDown reports whether a constructor the server sends reaches the
// client unchanged.
func (br *Bridge) PassesDown(id uint32) bool { return br.down[id] }

// passable computes the constructors and functions whose every value in
// layer a is, byte for byte, a value of layer b with the same meaning: the
// same id, name and fields in both, and for every boxed type a field names,
// each of a's constructors of that type passes too (b may know more). This
// is the greatest fixed point, computed once per pair. A field holding any
// query (!X) never passes: the layers' functions differ.
func passable(a, b *Schema) map[uint32]bool {
	pass := make(map[uint32]bool)
	for id, ca := range a.byID {
		if cb := b.byID[id]; cb != nil && sameShape(ca, cb) {
			pass[id] = true
		}
	}
	for changed := true; changed; {
		changed = false
		types := make(map[string]bool) // per round: all of a's constructors of the type pass
		var ok func(t *TypeRef) bool
		ok = func(t *TypeRef) bool {
			switch t.Kind {
			case KindVector, KindBareVector:
				return ok(t.Elem)
			case KindQuery:
				return false
			case KindBare:
				ca, cb := a.bare(t), b.bare(t)
				return cb != nil && ca.ID == cb.ID && pass[ca.ID]
			case KindBoxed:
				v, seen := types[t.Name]
				if !seen {
					v = true
					for _, c := range a.types[t.Name] {
						v = v && pass[c.ID]
					}
					types[t.Name] = v
				}
				return v
			}
			return true
		}
		for id := range pass {
			for _, f := range a.byID[id].Fields {
				if !ok(f.Type) {
					delete(pass, id)
					changed = true
					break
				}
			}
		}
	}
	return pass
}

func sameShape(a, b *Constructor) bool {
	if a.Name != b.Name || a.Function != b.Function || a.Type != b.Type || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i, fa := range a.Fields {
		fb := b.Fields[i]
		if fa.Name != fb.Name || fa.Flags != fb.Flags || fa.Bit != fb.Bit || fa.Type.String() != fb.Type.String() {
			return false
		}
	}
	return true
}

// Call is a translated request: what its answer must be translated with.
// It is shared and must not be changed.
type Call struct {
	Name string
	// ServerResult and ClientResult are the answer's type in each layer.
	ServerResult, ClientResult *TypeRef
}

// ErrUntranslatable means a value has no counterpart in the other layer.
var ErrUntranslatable = errors.New("layer: no counterpart in the other layer")

// Request translates a call (body: a boxed function, its invoke wrappers
// already taken off by internal/invoke) from the client's layer to the
// server's. A call identical in both comes back as the same slice, not
// copied.
func (br *Bridge) Request(body []byte) ([]byte, *Call, error) {
	if len(body) >= 4 {
		if call := br.calls[binary.LittleEndian.Uint32(body)]; call != nil {
			return body, call, nil
		}
	}
	q, err := br.Client.DecodeQuery(body)
	if err != nil {
		return nil, nil, err
	}
	up := converter{src: br.Client, dst: br.Server, pass: br.up}
	v, err := up.value(q, queryType, queryType, 0)
	if err != nil {
		return nil, nil, err
	}
	out := &bin.Buffer{Buf: make([]byte, 0, len(body)+64)}
	if err := br.Server.Encode(out, v, queryType); err != nil {
		return nil, nil, err
	}
	cr, err := resultOf(q)
	if err != nil {
		return nil, nil, err
	}
	sr, err := resultOf(v.(*Object))
	if err != nil {
		return nil, nil, err
	}
	return out.Buf, &Call{Name: q.C.Name, ClientResult: cr, ServerResult: sr}, nil
}

// resultOf is the answer type of a call. A wrapper (its result is its
// query's) must have been taken off before.
func resultOf(q *Object) (*TypeRef, error) {
	if q.C.Result.Kind == KindGeneric {
		return nil, fmt.Errorf("layer: %s is a wrapper, not a call", q.C.Name)
	}
	return q.C.Result, nil
}

// PassAnswer reports whether an answer whose boxed constructor is id goes
// to the client as it is: a constructor of the call's result type that
// passes down.
func (br *Bridge) PassAnswer(call *Call, id uint32) bool {
	if call.ServerResult.Kind != KindBoxed || !br.down[id] {
		return false
	}
	c := br.Server.byID[id]
	return !c.Function && c.Type == call.ServerResult.Name
}

// Answer translates an encoded answer to call from the server's layer to the
// client's, appending it to out.
func (br *Bridge) Answer(call *Call, answer []byte, out *bin.Buffer) error {
	if len(answer) >= 4 && br.PassAnswer(call, binary.LittleEndian.Uint32(answer)) {
		out.Put(answer)
		return nil
	}
	v, rest, err := br.Server.Decode(answer, call.ServerResult)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("layer: trailing bytes after the answer")
	}
	down := converter{src: br.Server, dst: br.Client, pass: br.down}
	w, err := down.value(v, call.ServerResult, call.ClientResult, 0)
	if err != nil {
		return fmt.Errorf("layer: answer to %s for layer %d: %w", call.Name, br.Client.Layer, err)
	}
	return br.Client.Encode(out, w, call.ClientResult)
}
