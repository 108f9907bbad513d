package layer

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gotd/tl"
)

// Kind is how a value is laid out on the wire.
type Kind uint8

// Kinds of TL values.
const (
	KindInt        Kind = iota + 1 // int: 4 bytes
	KindLong                       // long: 8 bytes
	KindDouble                     // double: 8 bytes
	KindInt128                     // int128: 16 bytes
	KindInt256                     // int256: 32 bytes
	KindString                     // string: TL bytes holding text
	KindBytes                      // bytes
	KindTrue                       // flags.N?true: no bytes, the flag is the value
	KindFlags                      // #: a flags word, recomputed on encode
	KindVector                     // Vector<T>: vector id, count, elements
	KindBareVector                 // vector<T>: count, elements
	KindBoxed                      // a boxed type: constructor id, then fields
	KindBare                       // a bare constructor: its fields, no id
	KindQuery                      // !X: any function call of the layer, boxed
	KindGeneric                    // X as a result type: the wrapped query's result
)

// TypeRef is the type of a field or of a function's result.
type TypeRef struct {
	Kind Kind
	Name string   // boxed type name ("messages.Messages") or bare constructor name
	Elem *TypeRef // element type of vectors
}

func (t *TypeRef) String() string {
	switch t.Kind {
	case KindVector:
		return "Vector<" + t.Elem.String() + ">"
	case KindBareVector:
		return "vector<" + t.Elem.String() + ">"
	case KindQuery:
		return "!" + t.Name
	}
	return t.Name
}

// Field is one parameter of a constructor or function.
type Field struct {
	Name string
	Type *TypeRef
	// Flags is the index (in the constructor's fields) of the flags word
	// that conditions this field, -1 when it is always present.
	Flags int
	Bit   int
}

// Constructor is one constructor or function of a schema.
type Constructor struct {
	ID       uint32
	Name     string // with its namespace: "messages.messages"
	Type     string // the boxed type it belongs to; for functions the result type's text
	Result   *TypeRef
	Fields   []Field
	Function bool
}

// Schema is one layer's constructors and functions, as tables for the
// generic codec.
type Schema struct {
	Layer int
	byID  map[uint32]*Constructor
	ctors map[string]*Constructor   // predicate -> constructor
	funcs map[string]*Constructor   // method -> function
	types map[string][]*Constructor // boxed type -> its constructors
}

// ByID returns the constructor or function with the id, or nil.
func (s *Schema) ByID(id uint32) *Constructor { return s.byID[id] }

// Constructor returns the constructor named so, or nil.
func (s *Schema) Constructor(name string) *Constructor { return s.ctors[name] }

// Function returns the function named so, or nil.
func (s *Schema) Function(name string) *Constructor { return s.funcs[name] }

// TypeConstructors returns the constructors of a boxed type.
func (s *Schema) TypeConstructors(name string) []*Constructor { return s.types[name] }

// All returns every constructor and function, in no particular order.
func (s *Schema) All() []*Constructor {
	all := make([]*Constructor, 0, len(s.byID))
	for _, c := range s.byID {
		all = append(all, c)
	}
	return all
}

// Built-in types: the schemas declare them only as comments or not at all.
var builtins = map[string]Kind{
	"int": KindInt, "long": KindLong, "double": KindDouble, "int128": KindInt128,
	"int256": KindInt256, "string": KindString, "bytes": KindBytes,
}

// vectorID is the constructor id of Vector<T>.
const vectorID = 0x1cb5c415

// ParseSchema reads a TL schema file (gotd/tl syntax, with a "// LAYER N"
// line) into tables, and checks that every type a field names is defined.
func ParseSchema(data []byte) (*Schema, error) {
	parsed, err := tl.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if parsed.Layer == 0 {
		return nil, fmt.Errorf("layer: schema has no \"// LAYER N\" line")
	}
	s := &Schema{
		Layer: parsed.Layer,
		byID:  make(map[uint32]*Constructor, len(parsed.Definitions)),
		ctors: make(map[string]*Constructor),
		funcs: make(map[string]*Constructor),
		types: make(map[string][]*Constructor),
	}
	for _, sd := range parsed.Definitions {
		d := sd.Definition
		if d.Base {
			continue // "int ? = Int": a built-in, not a constructor
		}
		c := &Constructor{
			ID:       d.ID,
			Name:     joinName(d.Namespace, d.Name),
			Type:     d.Type.String(),
			Function: sd.Category == tl.CategoryFunction,
		}
		generic := map[string]bool{}
		for _, g := range d.GenericParams {
			generic[g] = true
		}
		flags := map[string]int{}
		for _, p := range d.Params {
			f := Field{Name: p.Name, Flags: -1}
			switch {
			case p.Flags:
				flags[p.Name] = len(c.Fields)
				f.Type = &TypeRef{Kind: KindFlags, Name: "#"}
			default:
				if p.Flag != nil {
					i, ok := flags[p.Flag.Name]
					if !ok || p.Flag.Index < 0 || p.Flag.Index > 31 {
						return nil, fmt.Errorf("layer: %s.%s: bad flag %s", c.Name, p.Name, p.Flag)
					}
					f.Flags, f.Bit = i, p.Flag.Index
				}
				t, err := typeRef(p.Type, generic)
				if err != nil {
					return nil, fmt.Errorf("layer: %s.%s: %w", c.Name, p.Name, err)
				}
				if t.Kind == KindBare && t.Name == "true" {
					if f.Flags < 0 {
						return nil, fmt.Errorf("layer: %s.%s: true outside flags", c.Name, p.Name)
					}
					t = &TypeRef{Kind: KindTrue, Name: "true"}
				}
				f.Type = t
			}
			c.Fields = append(c.Fields, f)
		}
		if c.Function {
			r, err := typeRef(d.Type, generic)
			if err != nil {
				return nil, fmt.Errorf("layer: %s: result: %w", c.Name, err)
			}
			if r.Kind == KindQuery {
				r.Kind = KindGeneric
			}
			c.Result = r
		}
		if old := s.byID[c.ID]; old != nil {
			if old.Name == c.Name && old.Function == c.Function {
				continue // declared twice (gotd merges a legacy file)
			}
			return nil, fmt.Errorf("layer: id %08x used by %s and %s", c.ID, old.Name, c.Name)
		}
		s.byID[c.ID] = c
		if c.Function {
			s.funcs[c.Name] = c
		} else {
			s.ctors[c.Name] = c
			s.types[c.Type] = append(s.types[c.Type], c)
		}
	}
	// Every boxed type and bare constructor a field names must exist.
	for _, c := range s.byID {
		for _, f := range c.Fields {
			if err := s.check(f.Type); err != nil {
				return nil, fmt.Errorf("layer: %s.%s: %w", c.Name, f.Name, err)
			}
		}
		if c.Result != nil {
			if err := s.check(c.Result); err != nil {
				return nil, fmt.Errorf("layer: %s: result: %w", c.Name, err)
			}
		}
	}
	return s, nil
}

func joinName(ns []string, name string) string {
	if len(ns) == 0 {
		return name
	}
	return strings.Join(ns, ".") + "." + name
}

// typeRef converts gotd/tl's type of a parameter.
func typeRef(t tl.Type, generic map[string]bool) (*TypeRef, error) {
	name := joinName(t.Namespace, t.Name)
	if t.GenericRef || generic[name] {
		if !generic[name] {
			return nil, fmt.Errorf("unknown generic %s", name)
		}
		return &TypeRef{Kind: KindQuery, Name: name}, nil
	}
	if k, ok := builtins[name]; ok && t.GenericArg == nil {
		return &TypeRef{Kind: k, Name: name}, nil
	}
	if t.GenericArg != nil {
		if name != "Vector" && name != "vector" {
			return nil, fmt.Errorf("unknown generic type %s", name)
		}
		elem, err := typeRef(*t.GenericArg, generic)
		if err != nil {
			return nil, err
		}
		if elem.Kind == KindQuery {
			return nil, fmt.Errorf("vector of a generic")
		}
		k := KindVector
		if name == "vector" {
			k = KindBareVector
		}
		return &TypeRef{Kind: k, Name: name, Elem: elem}, nil
	}
	if t.Percent || t.Bare {
		return &TypeRef{Kind: KindBare, Name: name}, nil
	}
	return &TypeRef{Kind: KindBoxed, Name: name}, nil
}

func (s *Schema) check(t *TypeRef) error {
	switch t.Kind {
	case KindVector, KindBareVector:
		return s.check(t.Elem)
	case KindBoxed:
		if len(s.types[t.Name]) == 0 {
			return fmt.Errorf("undefined type %s", t.Name)
		}
	case KindBare:
		if s.bare(t) == nil {
			return fmt.Errorf("undefined bare type %s", t.Name)
		}
	}
	return nil
}

// bare resolves a bare type: a constructor by name, or %T of a type with a
// single constructor.
func (s *Schema) bare(t *TypeRef) *Constructor {
	if c := s.ctors[t.Name]; c != nil {
		return c
	}
	if cs := s.types[t.Name]; len(cs) == 1 {
		return cs[0]
	}
	return nil
}
