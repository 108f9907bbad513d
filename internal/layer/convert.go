package layer

import (
	"errors"
	"fmt"
	"math"
)

// converter maps values decoded with one schema onto another by name:
// constructors and functions by predicate (then by id), fields by name.
// Fields the target lacks are left out: the target layer has no place for
// them. Fields the source lacks stay absent, or get their zero value when
// the target requires them; flags are recomputed on encode. Numbers keep
// their value across int, long and double (a double to the nearest
// integer) where it fits. A value with no
// counterpart (a constructor the target does not have) leaves out the
// optional field or the vector element holding it, and fails a required one.
type converter struct {
	src, dst *Schema
	pass     map[uint32]bool // ids whose values are the same in dst
}

func untranslatable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUntranslatable}, args...)...)
}

func (cv *converter) value(v any, from, to *TypeRef, depth int) (any, error) {
	if v == nil {
		return nil, nil
	}
	if depth >= maxDepth {
		return nil, errDepth
	}
	switch from.Kind {
	case KindInt, KindLong:
		var x int64
		if i, ok := v.(int32); ok {
			x = int64(i)
		} else {
			x = v.(int64)
		}
		return cv.integer(x, to)
	case KindDouble:
		switch to.Kind {
		case KindDouble:
			return v, nil
		case KindInt, KindLong:
			// A number that became a double (documentAttributeVideo's
			// duration from layer 160 on), to the nearest integer.
			f := math.Round(math.Float64frombits(uint64(v.(Double))))
			if f >= math.MinInt64 && f < math.MaxInt64 {
				return cv.integer(int64(f), to)
			}
		}
	case KindInt128, KindInt256:
		if to.Kind == from.Kind {
			return v, nil
		}
	case KindString, KindBytes:
		if to.Kind == KindString || to.Kind == KindBytes {
			return v, nil
		}
	case KindFlags:
		return nil, nil // recomputed from the fields
	case KindTrue:
		switch {
		case to.Kind == KindTrue:
			return v, nil
		case to.Kind == KindBoxed && to.Name == "Bool":
			return cv.boolean(v.(bool))
		}
	case KindVector, KindBareVector:
		if to.Kind != KindVector && to.Kind != KindBareVector {
			break
		}
		in := v.([]any)
		out := make([]any, 0, len(in))
		for _, e := range in {
			x, err := cv.value(e, from.Elem, to.Elem, depth+1)
			if isUntranslatable(err) {
				continue // an element the target cannot express
			}
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case KindBoxed, KindBare, KindQuery:
		o := v.(*Object)
		if to.Kind == KindTrue && from.Name == "Bool" {
			return o.C.Name == "boolTrue", nil
		}
		return cv.object(o, to, depth)
	}
	return nil, untranslatable("%s to %s", from, to)
}

// integer converts a whole number to an int, long or double field; an int
// it does not fit has no counterpart.
func (cv *converter) integer(x int64, to *TypeRef) (any, error) {
	switch {
	case to.Kind == KindLong:
		return x, nil
	case to.Kind == KindInt && x >= math.MinInt32 && x <= math.MaxInt32:
		return int32(x), nil
	case to.Kind == KindDouble:
		return Double(math.Float64bits(float64(x))), nil
	}
	return nil, untranslatable("%d to %s", x, to)
}

func (cv *converter) boolean(t bool) (any, error) {
	name := "boolFalse"
	if t {
		name = "boolTrue"
	}
	c := cv.dst.ctors[name]
	if c == nil {
		return nil, untranslatable("%s", name)
	}
	return &Object{C: c}, nil
}

func (cv *converter) object(o *Object, to *TypeRef, depth int) (any, error) {
	if cv.pass[o.C.ID] {
		return o, nil // its bytes are the same in both layers
	}
	var c *Constructor
	if o.C.Function {
		c = cv.dst.funcs[o.C.Name]
	} else {
		c = cv.dst.ctors[o.C.Name]
	}
	if c == nil {
		if byID := cv.dst.byID[o.C.ID]; byID != nil && byID.Function == o.C.Function {
			c = byID
		} else {
			return nil, untranslatable("%s", o.C.Name)
		}
	}
	switch to.Kind {
	case KindBoxed:
		if c.Type != to.Name {
			return nil, untranslatable("%s is no %s", c.Name, to.Name)
		}
	case KindBare:
		if cv.dst.bare(to) != c {
			return nil, untranslatable("%s is no %s", c.Name, to.Name)
		}
	case KindQuery:
		if !c.Function {
			return nil, untranslatable("%s is no function", c.Name)
		}
	default:
		return nil, untranslatable("%s to %s", c.Name, to)
	}
	out := &Object{C: c, Fields: make([]any, len(c.Fields))}
	for i, f := range c.Fields {
		if f.Type.Kind == KindFlags {
			continue
		}
		j := fieldIndex(o.C, f.Name)
		if j < 0 || o.Fields[j] == nil {
			continue // absent: left out, or its zero value when required
		}
		x, err := cv.value(o.Fields[j], o.C.Fields[j].Type, f.Type, depth+1)
		if isUntranslatable(err) && f.Flags >= 0 {
			continue // optional here: left out
		}
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c.Name, f.Name, err)
		}
		out.Fields[i] = x
	}
	return out, nil
}

func fieldIndex(c *Constructor, name string) int {
	for i, f := range c.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func isUntranslatable(err error) bool { return errors.Is(err, ErrUntranslatable) }
