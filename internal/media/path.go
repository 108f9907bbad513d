package media

import (
	"errors"
	"fmt"
	"strings"
)

// pathAlphabet is the lookup table of photoPathSize bytes 192..255, as in
// Telegram Desktop's ExpandPathInlineBytes (ui/image/image.cpp, "Thanks
// TDLib for code"): commands, '.', digits, '-' and ','.
const pathAlphabet = "AACAAAAHAAALMAAAQASTAVAAAZ" + "aacaaaahaaalmaaaqastava.az" + "0123456789-,"

// PathViewBox is the side of the square the path's coordinates live in:
// the sticker's pixels, stickers being 512 on their longer side. Clients
// scale the path by the document's dimensions over 512.
const PathViewBox = 512

// DecodePath expands photoPathSize "j" bytes into the SVG path data clients
// draw (rule M9): "M", then for each byte b a character of pathAlphabet when
// b >= 192, else the number b&63 in decimal preceded by ',' when b >= 128 or
// by '-' when b >= 64, then "z". It is total: any bytes expand, at most three
// characters each (ParsePath says whether the result is a path clients draw).
func DecodePath(b []byte) string {
	var s strings.Builder
	s.Grow(2 + 3*len(b))
	s.WriteByte('M')
	for _, c := range b {
		switch {
		case c >= 192:
			s.WriteByte(pathAlphabet[c-192])
			continue
		case c >= 128:
			s.WriteByte(',')
		case c >= 64:
			s.WriteByte('-')
		}
		n := c & 63
		if n >= 10 {
			s.WriteByte('0' + n/10)
		}
		s.WriteByte('0' + n%10)
	}
	s.WriteByte('z')
	return s.String()
}

// EncodePath is the inverse of DecodePath: DecodePath(EncodePath(d)) == d
// for every d it accepts. d must start with "M", end with "z" and use only
// the characters of pathAlphabet (the commands AaCcHhLlMmQqSsTtVvZz, digits,
// '.', '-' and ','; no spaces or exponents). A sign or comma followed by a
// number up to 63 written without a leading zero takes one byte, every other
// character one byte.
func EncodePath(d string) ([]byte, error) {
	if len(d) < 2 || d[0] != 'M' || d[len(d)-1] != 'z' {
		return nil, errors.New(`media: path must start with "M" and end with "z"`)
	}
	s := d[1 : len(d)-1]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		base, j := byte(0), i
		if (c == ',' || c == '-') && i+1 < len(s) && isDigit(s[i+1]) {
			base, j = 128, i+1
			if c == '-' {
				base = 64
			}
		}
		if isDigit(s[j]) {
			v, n := int(s[j]-'0'), 1
			if v != 0 && j+1 < len(s) && isDigit(s[j+1]) && v*10+int(s[j+1]-'0') <= 63 {
				v, n = v*10+int(s[j+1]-'0'), 2
			}
			out = append(out, base+byte(v))
			i = j + n
			continue
		}
		k := strings.IndexByte(pathAlphabet, c)
		if k < 0 {
			return nil, fmt.Errorf("media: path character %q has no encoding", c)
		}
		out = append(out, 192+byte(k))
		i++
	}
	return out, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Point is a point of a parsed path, in path units.
type Point struct{ X, Y float64 }

// curveSteps is how many segments ParsePath makes of a cubic Bézier.
const curveSteps = 8

// ParsePath parses path data the way Telegram Desktop's PathFromInlineBytes
// does and returns its closed subpaths as polygons (cubic curves flattened).
// It accepts what that client draws: M/m (extra coordinate pairs are further
// moves, as in the client), L/l, H/h, V/v, C/c, S/s and Z/z; a subpath that
// is not closed, any other command (the client draws nothing at all then)
// a number without digits or one beyond ±1e6 is an error.
func ParsePath(d string) ([][]Point, error) {
	if d == "" {
		return nil, errors.New("media: empty path")
	}
	p := pathParser{s: d}
	var out [][]Point
	x, y := 0.0, 0.0
	for p.i < len(d) {
		p.skipCommas()
		if p.i == len(d) {
			break
		}
		for p.i < len(d) && (d[p.i] == 'm' || d[p.i] == 'M') {
			cmd := d[p.i]
			p.i++
			for {
				nx, err := p.number()
				if err != nil {
					return nil, err
				}
				ny, err := p.number()
				if err != nil {
					return nil, err
				}
				if cmd == 'm' {
					x, y = x+nx, y+ny
				} else {
					x, y = nx, ny
				}
				p.skipCommas()
				if p.i == len(d) || isAlpha(d[p.i]) {
					break
				}
			}
		}
		x0, y0 := x, y
		poly := []Point{{x, y}}
		haveCtrl := false
		cx, cy := 0.0, 0.0
		cmd := byte('-')
		for closed := false; !closed; {
			p.skipCommas()
			if p.i == len(d) {
				return nil, errors.New("media: unclosed path")
			}
			if isAlpha(d[p.i]) {
				cmd = d[p.i]
				p.i++
			}
			switch cmd {
			case 'l', 'L', 'h', 'H', 'v', 'V':
				if cmd != 'v' && cmd != 'V' {
					n, err := p.number()
					if err != nil {
						return nil, err
					}
					if cmd == 'l' || cmd == 'h' {
						x += n
					} else {
						x = n
					}
				}
				if cmd != 'h' && cmd != 'H' {
					n, err := p.number()
					if err != nil {
						return nil, err
					}
					if cmd == 'l' || cmd == 'v' {
						y += n
					} else {
						y = n
					}
				}
				poly = append(poly, Point{x, y})
				haveCtrl = false
			case 'c', 'C', 's', 'S':
				var x1, y1 float64
				if cmd == 's' || cmd == 'S' {
					x1, y1 = x, y
					if haveCtrl {
						x1, y1 = 2*x-cx, 2*y-cy
					}
				} else {
					v, err := p.numbers(2)
					if err != nil {
						return nil, err
					}
					x1, y1 = v[0], v[1]
					if cmd == 'c' {
						x1, y1 = x1+x, y1+y
					}
				}
				v, err := p.numbers(4)
				if err != nil {
					return nil, err
				}
				cx, cy = v[0], v[1]
				nx, ny := v[2], v[3]
				if cmd == 'c' || cmd == 's' {
					cx, cy, nx, ny = cx+x, cy+y, nx+x, ny+y
				}
				haveCtrl = true
				for k := 1; k <= curveSteps; k++ {
					t := float64(k) / curveSteps
					u := 1 - t
					poly = append(poly, Point{
						u*u*u*x + 3*u*u*t*x1 + 3*u*t*t*cx + t*t*t*nx,
						u*u*u*y + 3*u*u*t*y1 + 3*u*t*t*cy + t*t*t*ny,
					})
				}
				x, y = nx, ny
			case 'm', 'M':
				p.i--
				fallthrough
			case 'z', 'Z':
				x, y = x0, y0
				closed = true
			default:
				return nil, fmt.Errorf("media: path command %q is not drawn by clients", cmd)
			}
		}
		out = append(out, poly)
	}
	return out, nil
}

func isAlpha(c byte) bool {
	c |= 0x20
	return 'a' <= c && c <= 'z'
}

type pathParser struct {
	s string
	i int
}

func (p *pathParser) skipCommas() {
	for p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
	}
}

// maxPathNumber bounds coordinates: paths live in a 512 box, and a longer
// run of digits would overflow to infinity.
const maxPathNumber = 1e6

// number reads [-]digits[.digits] after any commas, as the client does, but
// requires a digit and a magnitude up to maxPathNumber.
func (p *pathParser) number() (float64, error) {
	p.skipCommas()
	sign := 1.0
	if p.i < len(p.s) && p.s[p.i] == '-' {
		sign = -1
		p.i++
	}
	v, digits := 0.0, 0
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		v = v*10 + float64(p.s[p.i]-'0')
		p.i++
		digits++
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		mul := 0.1
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			v += float64(p.s[p.i]-'0') * mul
			mul *= 0.1
			p.i++
			digits++
		}
	}
	if digits == 0 {
		return 0, fmt.Errorf("media: path number expected at %d", p.i)
	}
	if v > maxPathNumber {
		return 0, fmt.Errorf("media: path number too large at %d", p.i)
	}
	return sign * v, nil
}

func (p *pathParser) numbers(n int) ([]float64, error) {
	v := make([]float64, n)
	for k := range v {
		var err error
		if v[k], err = p.number(); err != nil {
			return nil, err
		}
	}
	return v, nil
}
