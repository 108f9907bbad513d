package layer

import (
	"errors"
	"fmt"

	"github.com/gotd/td/bin"
)

// Values of the generic codec, by kind:
//
//	int: int32, long: int64, double: Double, int128: Int128, int256: Int256,
//	string and bytes: []byte, true: bool, #: uint32 (ignored on encode),
//	vectors: []any, constructors and functions: *Object.
//
// A conditional field that is absent holds nil.
type (
	Double uint64 // the bits, so that every value survives a round trip
	Int128 [16]byte
	Int256 [32]byte
)

// Object is a decoded constructor or function call: one value per field.
type Object struct {
	C      *Constructor
	Fields []any
}

// Field returns the value of the named field, or nil.
func (o *Object) Field(name string) any {
	for i, f := range o.C.Fields {
		if f.Name == name {
			return o.Fields[i]
		}
	}
	return nil
}

// maxDepth bounds the nesting of decoded objects; Telegram's deepest
// answers nest about a dozen levels.
const maxDepth = 48

var (
	errDepth     = errors.New("layer: nesting too deep")
	errVectorLen = errors.New("layer: vector longer than its bytes")
)

// DecodeError says where decoding stopped.
type DecodeError struct {
	Layer int
	Path  string
	Err   error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("layer %d: decode %s: %v", e.Layer, e.Path, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Decode decodes one value of type t from the start of b and returns it with
// the bytes that follow it.
func (s *Schema) Decode(b []byte, t *TypeRef) (any, []byte, error) {
	buf := &bin.Buffer{Buf: b}
	v, err := s.decode(buf, t, 0)
	if err != nil {
		return nil, nil, err
	}
	return v, buf.Buf, nil
}

// DecodeQuery decodes a whole function call, as a request body holds.
func (s *Schema) DecodeQuery(b []byte) (*Object, error) {
	v, rest, err := s.Decode(b, queryType)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, &DecodeError{Layer: s.Layer, Path: v.(*Object).C.Name, Err: errors.New("trailing bytes")}
	}
	return v.(*Object), nil
}

var queryType = &TypeRef{Kind: KindQuery, Name: "X"}

func (s *Schema) decode(b *bin.Buffer, t *TypeRef, depth int) (any, error) {
	switch t.Kind {
	case KindInt:
		return b.Int32()
	case KindLong:
		return b.Long()
	case KindDouble:
		v, err := b.Uint64()
		return Double(v), err
	case KindInt128:
		v, err := b.Int128()
		return Int128(v), err
	case KindInt256:
		v, err := b.Int256()
		return Int256(v), err
	case KindString, KindBytes:
		return b.Bytes()
	case KindFlags:
		return b.Uint32()
	case KindVector, KindBareVector:
		if t.Kind == KindVector {
			if err := b.ConsumeID(vectorID); err != nil {
				return nil, err
			}
		}
		n, err := b.Int()
		if err != nil {
			return nil, err
		}
		if n < 0 || n > b.Len()/s.minSize(t.Elem) {
			return nil, errVectorLen
		}
		if depth >= maxDepth {
			return nil, errDepth
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = s.decode(b, t.Elem, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case KindBoxed, KindQuery:
		id, err := b.ID()
		if err != nil {
			return nil, err
		}
		c := s.byID[id]
		switch {
		case c == nil:
			return nil, &DecodeError{Layer: s.Layer, Path: t.String(), Err: fmt.Errorf("unknown constructor %08x", id)}
		case t.Kind == KindQuery && !c.Function:
			return nil, &DecodeError{Layer: s.Layer, Path: c.Name, Err: errors.New("not a function")}
		case t.Kind == KindBoxed && (c.Function || c.Type != t.Name):
			return nil, &DecodeError{Layer: s.Layer, Path: c.Name, Err: fmt.Errorf("not a %s", t.Name)}
		}
		return s.decodeObject(b, c, depth)
	case KindBare:
		return s.decodeObject(b, s.bare(t), depth)
	}
	return nil, fmt.Errorf("layer: cannot decode %s", t)
}

func (s *Schema) decodeObject(b *bin.Buffer, c *Constructor, depth int) (*Object, error) {
	if depth >= maxDepth {
		return nil, errDepth
	}
	o := &Object{C: c, Fields: make([]any, len(c.Fields))}
	for i, f := range c.Fields {
		if f.Flags >= 0 {
			word, _ := o.Fields[f.Flags].(uint32)
			if word&(1<<f.Bit) == 0 {
				continue
			}
			if f.Type.Kind == KindTrue {
				o.Fields[i] = true
				continue
			}
		}
		v, err := s.decode(b, f.Type, depth+1)
		if err != nil {
			var de *DecodeError
			if errors.As(err, &de) {
				de.Path = c.Name + "." + f.Name + "/" + de.Path
				return nil, de
			}
			return nil, &DecodeError{Layer: s.Layer, Path: c.Name + "." + f.Name, Err: err}
		}
		o.Fields[i] = v
	}
	return o, nil
}

// minSize is the fewest bytes a value of type t takes (at least 1), to
// check a vector's count against the bytes left before allocating.
func (s *Schema) minSize(t *TypeRef) int {
	switch t.Kind {
	case KindLong, KindDouble:
		return 8
	case KindInt128:
		return 16
	case KindInt256:
		return 32
	case KindBare:
		if c := s.bare(t); c != nil && len(c.Fields) == 0 {
			return 1
		}
	}
	return 4
}

// Encode appends v, a value of type t, to b. Flags words are computed from
// the fields present; a field that shares a set bit but is absent is
// written as its zero value.
func (s *Schema) Encode(b *bin.Buffer, v any, t *TypeRef) error {
	return s.encode(b, v, t, 0)
}

func (s *Schema) encode(b *bin.Buffer, v any, t *TypeRef, depth int) error {
	if depth >= maxDepth {
		return errDepth
	}
	if v == nil {
		d, err := s.zero(t)
		if err != nil {
			return err
		}
		v = d
	}
	bad := func() error { return fmt.Errorf("layer %d: cannot encode %T as %s", s.Layer, v, t) }
	switch t.Kind {
	case KindInt:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		b.PutInt32(x)
	case KindLong:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		b.PutLong(x)
	case KindDouble:
		x, ok := v.(Double)
		if !ok {
			return bad()
		}
		b.PutUint64(uint64(x))
	case KindInt128:
		x, ok := v.(Int128)
		if !ok {
			return bad()
		}
		b.PutInt128(bin.Int128(x))
	case KindInt256:
		x, ok := v.(Int256)
		if !ok {
			return bad()
		}
		b.PutInt256(bin.Int256(x))
	case KindString, KindBytes:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		b.PutBytes(x)
	case KindVector, KindBareVector:
		x, ok := v.([]any)
		if !ok {
			return bad()
		}
		if t.Kind == KindVector {
			b.PutID(vectorID)
		}
		b.PutInt(len(x))
		for _, e := range x {
			if err := s.encode(b, e, t.Elem, depth+1); err != nil {
				return err
			}
		}
	case KindBoxed, KindQuery, KindBare:
		o, ok := v.(*Object)
		if !ok {
			return bad()
		}
		if t.Kind != KindBare {
			b.PutID(o.C.ID)
		}
		return s.encodeObject(b, o, depth)
	default:
		return bad()
	}
	return nil
}

func (s *Schema) encodeObject(b *bin.Buffer, o *Object, depth int) error {
	c := o.C
	if len(o.Fields) != len(c.Fields) {
		return fmt.Errorf("layer %d: %s has %d values for %d fields", s.Layer, c.Name, len(o.Fields), len(c.Fields))
	}
	words := make([]uint32, len(c.Fields))
	for i, f := range c.Fields {
		if f.Flags >= 0 && present(o.Fields[i]) {
			words[f.Flags] |= 1 << f.Bit
		}
	}
	for i, f := range c.Fields {
		switch {
		case f.Type.Kind == KindFlags:
			b.PutUint32(words[i])
		case f.Flags >= 0 && (words[f.Flags]&(1<<f.Bit) == 0 || f.Type.Kind == KindTrue):
			// absent, or a true flag: nothing to write
		default:
			if err := s.encode(b, o.Fields[i], f.Type, depth+1); err != nil {
				return fmt.Errorf("%s.%s: %w", c.Name, f.Name, err)
			}
		}
	}
	return nil
}

// present says whether a conditional field's value sets its flag.
func present(v any) bool {
	if t, ok := v.(bool); ok {
		return t
	}
	return v != nil
}

// zero is the value a missing mandatory field gets: zero numbers, empty
// strings and vectors, boolFalse, and for other boxed types the type's
// constructor that carries nothing (such as inputPeerEmpty).
func (s *Schema) zero(t *TypeRef) (any, error) {
	switch t.Kind {
	case KindInt:
		return int32(0), nil
	case KindLong:
		return int64(0), nil
	case KindDouble:
		return Double(0), nil
	case KindInt128:
		return Int128{}, nil
	case KindInt256:
		return Int256{}, nil
	case KindString, KindBytes:
		return []byte{}, nil
	case KindVector, KindBareVector:
		return []any{}, nil
	case KindTrue:
		return false, nil
	case KindBoxed:
		if t.Name == "Bool" {
			if c := s.ctors["boolFalse"]; c != nil {
				return &Object{C: c}, nil
			}
		}
		if c := s.empty(t.Name); c != nil {
			return &Object{C: c, Fields: make([]any, len(c.Fields))}, nil
		}
	case KindBare:
		if c := s.bare(t); c != nil && allConditional(c) {
			return &Object{C: c, Fields: make([]any, len(c.Fields))}, nil
		}
	}
	return nil, fmt.Errorf("layer %d: no zero value for %s", s.Layer, t)
}

// empty returns the constructor of a boxed type that holds nothing but
// flags, preferring one named ...Empty.
func (s *Schema) empty(typ string) *Constructor {
	var found *Constructor
	for _, c := range s.types[typ] {
		if !allConditional(c) {
			continue
		}
		if found == nil || hasSuffix(c.Name, "Empty") && !hasSuffix(found.Name, "Empty") {
			found = c
		}
	}
	return found
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

func allConditional(c *Constructor) bool {
	for _, f := range c.Fields {
		if f.Flags < 0 && f.Type.Kind != KindFlags {
			return false
		}
	}
	return true
}
