package media

import (
	"math"
	"strings"
	"testing"
)

// The lookup table exactly as Telegram Desktop's ExpandPathInlineBytes
// spells it.
const desktopPathTable = "AACAAAAHAAALMAAAQASTAVAAAZaacaaaahaaalmaaaqastava.az0123456789-,"

func TestM9_DecodePath(t *testing.T) {
	if pathAlphabet != desktopPathTable {
		t.Fatalf("lookup table %q", pathAlphabet)
	}
	cases := []struct {
		in   []byte
		want string
	}{
		{nil, "Mz"},
		// 25 | ',' 6 | 'l' | 5 | '-' 3 | ',' 63 | '-' 0
		{[]byte{25, 128 + 6, 192 + 37, 5, 64 + 3, 128 + 63, 64 + 0}, "M25,6l5-3,63-0z"},
		// Numbers continued by digit characters: 51 '2' = 512.
		{[]byte{51, 192 + 54, 128 + 10, 192 + 52}, "M512,100z"},
		// Every lookup byte.
		{func() []byte {
			b := make([]byte, 64)
			for i := range b {
				b[i] = byte(192 + i)
			}
			return b
		}(), "M" + desktopPathTable + "z"},
		// Every number byte without a prefix.
		{[]byte{0, 9, 10, 63}, "M091063z"},
	}
	for _, c := range cases {
		if got := DecodePath(c.in); got != c.want {
			t.Errorf("% x: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestM9_EncodePathRoundTrip(t *testing.T) {
	paths := []string{
		"M0,0l512,0,0,512-512,0z",
		"M256,0c141,0,256,115,256,256s-115,256-256,256S0,397,0,256,115,0,256,0z",
		"M10.5,20.25L30,40H50V60h-5v-5zM100,100l5,5z",
		"M05,007l0,00z", // leading zeros survive
		"M63,64,99,100,1000l-63-64-1000z",
		"M1z",
		"Mz",
		"M,,--,z",
	}
	for _, d := range paths {
		b, err := EncodePath(d)
		if err != nil {
			t.Errorf("%q: %v", d, err)
			continue
		}
		if got := DecodePath(b); got != d {
			t.Errorf("%q encodes to % x, which decodes to %q", d, b, got)
		}
	}
	// Numbers up to 63 with their separator take one byte.
	b, _ := EncodePath("M10,20l5,5-63,63z")
	if len(b) != 7 {
		t.Errorf("M10,20l5,5-63,63z takes %d bytes: % x", len(b), b)
	}
}

func TestM9_EncodePathRefuses(t *testing.T) {
	for _, d := range []string{"", "M", "z", "L0,0z", "M0,0l1,1", "M0 0z", "M1e5,0z", "M0,0B1z", "M0,0\x00z", "M0,0ñz"} {
		if b, err := EncodePath(d); err == nil {
			t.Errorf("%q encodes to % x", d, b)
		}
	}
}

// TestM9_ParsePathLikeDesktop: the parser follows Telegram Desktop's
// PathFromInlineBytes, including its reading of extra M coordinates as
// further moves, and refuses what that client refuses to draw.
func TestM9_ParsePathLikeDesktop(t *testing.T) {
	polys, err := ParsePath("M0,0l10,0,0,10-10,0zM20,20L30,20V30H20z")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Point{
		{{0, 0}, {10, 0}, {10, 10}, {0, 10}},
		{{20, 20}, {30, 20}, {30, 30}, {20, 30}},
	}
	if !samePolys(polys, want) {
		t.Errorf("got %v", polys)
	}
	// Extra pairs after M move again (no line).
	polys, err = ParsePath("M0,0,5,5l1,0z")
	if err != nil || !samePolys(polys, [][]Point{{{5, 5}, {6, 5}}}) {
		t.Errorf("M with two pairs: %v %v", polys, err)
	}
	// m is relative to the start of the closed subpath; decimals.
	polys, err = ParsePath("M10,10l1,0zm2.5,-1.5l1,0z")
	if err != nil || !samePolys(polys, [][]Point{{{10, 10}, {11, 10}}, {{12.5, 8.5}, {13.5, 8.5}}}) {
		t.Errorf("relative m: %v %v", polys, err)
	}
	// A cubic ends where it says, through its flattening.
	polys, err = ParsePath("M0,0c0,10,10,10,10,0s10,-10,10,0z")
	if err != nil || len(polys) != 1 || len(polys[0]) != 1+2*curveSteps {
		t.Fatalf("cubic: %v %v", polys, err)
	}
	if p := polys[0][curveSteps]; p != (Point{10, 0}) {
		t.Errorf("first curve ends at %v", p)
	}
	if p := polys[0][curveSteps/2]; math.Abs(p.X-5) > 1e-9 || math.Abs(p.Y-7.5) > 1e-9 {
		t.Errorf("first curve's midpoint %v", p)
	}
	if p := polys[0][curveSteps+curveSteps/2]; math.Abs(p.X-15) > 1e-9 || math.Abs(p.Y+7.5) > 1e-9 {
		t.Errorf("smooth curve's midpoint %v (control point not reflected)", p)
	}

	for _, d := range []string{
		"",
		"Mz",                  // no coordinates
		"M0,0l1,1",            // unclosed
		"M0,0Q1,1,2,2z",       // quadratic: Desktop logs an error and draws nothing
		"M0,0A1,1,0,0,1,2,2z", // arc
		"M0,0T1,1z",
		"M0,0l1z",  // missing number
		"M0,0l,-z", // sign without digits
		"M0,0 l1,1z",
	} {
		if p, err := ParsePath(d); err == nil {
			t.Errorf("%q parses to %v", d, p)
		}
	}
}

func samePolys(a, b [][]Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k := range a[i] {
			if math.Abs(a[i][k].X-b[i][k].X) > 1e-9 || math.Abs(a[i][k].Y-b[i][k].Y) > 1e-9 {
				return false
			}
		}
	}
	return true
}

// TestM9_DecodedBytesAlwaysReencode: DecodePath's output only uses the
// alphabet, so EncodePath takes it back (the property FuzzDecodePath
// checks on arbitrary bytes).
func TestM9_DecodedBytesAlwaysReencode(t *testing.T) {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	d := DecodePath(b)
	e, err := EncodePath(d)
	if err != nil {
		t.Fatal(err)
	}
	if DecodePath(e) != d || len(e) > len(b) {
		t.Errorf("re-encoding grew from %d to %d bytes or changed the path", len(b), len(e))
	}
	if strings.ContainsAny(d, " \x00") {
		t.Error("decoded path has characters outside the alphabet")
	}
}
