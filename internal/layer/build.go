package layer

import (
	"fmt"

	"github.com/gotd/td/bin"
)

// Build makes a constructor or function of the schema from field values by
// name, for tests and tools that speak a layer without generated code. Go
// values are converted to the field's kind: int to int32 or int64, string
// to []byte, bool for true flags, vectors from []any (elements converted
// alike); *Object as it is. Fields not given are absent, or zero when the
// constructor requires them.
func (s *Schema) Build(name string, fields map[string]any) (*Object, error) {
	c := s.funcs[name]
	if c == nil {
		c = s.ctors[name]
	}
	if c == nil {
		return nil, fmt.Errorf("layer %d: no %s", s.Layer, name)
	}
	o := &Object{C: c, Fields: make([]any, len(c.Fields))}
	for k, v := range fields {
		i := fieldIndex(c, k)
		if i < 0 {
			return nil, fmt.Errorf("layer %d: %s has no field %s", s.Layer, name, k)
		}
		x, err := goValue(v, c.Fields[i].Type)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %s.%s: %w", s.Layer, name, k, err)
		}
		o.Fields[i] = x
	}
	return o, nil
}

// MustBuild is Build for values known to be right; it panics otherwise.
func (s *Schema) MustBuild(name string, fields map[string]any) *Object {
	o, err := s.Build(name, fields)
	if err != nil {
		panic(err)
	}
	return o
}

func goValue(v any, t *TypeRef) (any, error) {
	switch x := v.(type) {
	case int:
		switch t.Kind {
		case KindInt:
			return int32(x), nil
		case KindLong:
			return int64(x), nil
		}
	case string:
		if t.Kind == KindString || t.Kind == KindBytes {
			return []byte(x), nil
		}
	case []any:
		if t.Kind == KindVector || t.Kind == KindBareVector {
			out := make([]any, len(x))
			for i, e := range x {
				var err error
				if out[i], err = goValue(e, t.Elem); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("%T is no %s", v, t)
}

// Marshal encodes an object boxed: a function call, or a constructor.
func (s *Schema) Marshal(o *Object) ([]byte, error) {
	var b bin.Buffer
	t := &TypeRef{Kind: KindBoxed, Name: o.C.Type}
	if o.C.Function {
		t = queryType
	}
	if err := s.Encode(&b, o, t); err != nil {
		return nil, err
	}
	return b.Buf, nil
}

// Walk calls f for v and every object inside it, depth first.
func Walk(v any, f func(*Object)) {
	switch x := v.(type) {
	case *Object:
		f(x)
		for _, e := range x.Fields {
			Walk(e, f)
		}
	case []any:
		for _, e := range x {
			Walk(e, f)
		}
	}
}
