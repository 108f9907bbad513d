package media

import (
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"
)

const (
	// OutlineGrid is how many cells the alpha mask has on the image's
	// longer side (8 path units each).
	OutlineGrid = 64
	// OutlineBudget is the most bytes Outline returns; Telegram's outlines
	// stay under 300.
	OutlineBudget = 240
)

// Outline returns photoPathSize "j" bytes outlining the opaque part of a
// sticker image (rule M9), nil when no part of it is opaque.
//
// The alpha channel is averaged over a grid of OutlineGrid cells on the
// longer side and thresholded at one half; the boundaries between opaque and
// transparent cells are traced into closed polygons (outer boundaries
// clockwise, holes counter-clockwise, so both the even-odd rule clients use
// and SVG's default non-zero rule fill the same area), scaled so the longer
// side is PathViewBox units, simplified with Douglas–Peucker, and written as
// "M x,y l dx,dy … z" with relative integer steps, which EncodePath packs
// into mostly one byte per number. The tolerance grows until the bytes fit
// OutlineBudget; if even a coarse outline does not fit, the smallest
// polygons are dropped.
func Outline(img image.Image) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	long := max(w, h)
	grid := min(OutlineGrid, long) // no cell smaller than a pixel
	gw := (w*grid + long - 1) / long
	gh := (h*grid + long - 1) / long

	// Cell of pixel x: x*grid/long; sums of alpha and pixel counts per cell.
	sum := make([]uint32, gw*gh)
	cnt := make([]uint32, gw*gh)
	cellX := make([]int, w)
	for x := range cellX {
		cellX[x] = x * grid / long
	}
	for y := 0; y < h; y++ {
		row := (y * grid / long) * gw
		alphaRow(img, b.Min.Y+y, func(x int, a uint8) {
			i := row + cellX[x]
			sum[i] += uint32(a)
			cnt[i]++
		})
	}
	in := make([]bool, gw*gh)
	any := false
	for i := range in {
		in[i] = cnt[i] > 0 && sum[i] >= 128*cnt[i]
		any = any || in[i]
	}
	if !any {
		return nil
	}

	// Grid corner i sits at pixel ceil(i*long/grid), in path units scaled
	// by PathViewBox/long.
	coord := func(i, n int) int {
		px := min((i*long+grid-1)/grid, n)
		return (px*PathViewBox + long/2) / long
	}
	loops := traceCells(in, gw, gh)
	polys := make([][]image.Point, 0, len(loops))
	for _, l := range loops {
		p := make([]image.Point, len(l))
		for k, v := range l {
			p[k] = image.Pt(coord(v.X, w), coord(v.Y, h))
		}
		polys = append(polys, p)
	}
	// Largest first, so that dropping from the end drops the smallest. A
	// polygon costs at least about ten bytes: no more than
	// OutlineBudget/8 can fit.
	sort.SliceStable(polys, func(i, j int) bool { return area(polys[i]) > area(polys[j]) })
	polys = polys[:min(len(polys), OutlineBudget/8)]

	for len(polys) > 0 {
		for eps := 1.5; eps <= 48; eps *= 1.3 {
			if out := encodeOutline(polys, eps); out != nil && len(out) <= OutlineBudget {
				return out
			}
		}
		polys = polys[:len(polys)-1]
	}
	return nil
}

// alphaRow calls f with the alpha of every pixel of row y.
func alphaRow(img image.Image, y int, f func(x int, a uint8)) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.NRGBA:
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			f(x, row[4*x+3])
		}
	case *image.RGBA:
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			f(x, row[4*x+3])
		}
	case *image.NYCbCrA:
		for x := 0; x < b.Dx(); x++ {
			f(x, m.A[m.AOffset(b.Min.X+x, y)])
		}
	case image.RGBA64Image:
		for x := 0; x < b.Dx(); x++ {
			f(x, uint8(m.RGBA64At(b.Min.X+x, y).A>>8))
		}
	default:
		for x := 0; x < b.Dx(); x++ {
			f(x, color.AlphaModel.Convert(img.At(b.Min.X+x, y)).(color.Alpha).A)
		}
	}
}

// traceCells returns the boundaries between set and unset cells of a gw×gh
// grid as closed loops of grid corners, with the set cells on the right of
// the direction of travel (y down): clockwise around a filled region,
// counter-clockwise around a hole. Where two set cells touch only at a
// corner, the loops turn so as to keep them apart. Only the corners where
// the direction changes are kept.
func traceCells(in []bool, gw, gh int) [][]image.Point {
	set := func(x, y int) bool { return x >= 0 && y >= 0 && x < gw && y < gh && in[y*gw+x] }
	type edge struct {
		from, to image.Point
		used     bool
	}
	var edges []edge
	vw := gw + 1
	out := make([][2]int32, vw*(gh+1)) // outgoing edges per corner, -1 if none
	for i := range out {
		out[i] = [2]int32{-1, -1}
	}
	add := func(a, b image.Point) {
		id := int32(len(edges))
		edges = append(edges, edge{from: a, to: b})
		o := &out[a.Y*vw+a.X]
		if o[0] < 0 {
			o[0] = id
		} else {
			o[1] = id
		}
	}
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			if !in[y*gw+x] {
				continue
			}
			if !set(x, y-1) {
				add(image.Pt(x, y), image.Pt(x+1, y))
			}
			if !set(x+1, y) {
				add(image.Pt(x+1, y), image.Pt(x+1, y+1))
			}
			if !set(x, y+1) {
				add(image.Pt(x+1, y+1), image.Pt(x, y+1))
			}
			if !set(x-1, y) {
				add(image.Pt(x, y+1), image.Pt(x, y))
			}
		}
	}
	var loops [][]image.Point
	for start := range edges {
		if edges[start].used {
			continue
		}
		var loop []image.Point
		e := start
		for !edges[e].used {
			edges[e].used = true
			loop = append(loop, edges[e].from)
			d := edges[e].to.Sub(edges[e].from)
			o := out[edges[e].to.Y*vw+edges[e].to.X]
			next := o[0]
			if o[1] >= 0 {
				// A saddle: take the right turn (clockwise), which
				// keeps diagonal cells in separate loops.
				right := image.Pt(-d.Y, d.X)
				if edges[o[0]].used || edges[o[1]].to.Sub(edges[o[1]].from) == right {
					next = o[1]
				}
			}
			if next < 0 {
				break
			}
			e = int(next)
		}
		loops = append(loops, corners(loop))
	}
	return loops
}

// corners drops the points of a closed polygon where it goes straight on.
func corners(p []image.Point) []image.Point {
	var out []image.Point
	n := len(p)
	for i, v := range p {
		d1, d2 := v.Sub(p[(i+n-1)%n]), p[(i+1)%n].Sub(v)
		if d1.X*d2.Y == d1.Y*d2.X && d1.X*d2.X+d1.Y*d2.Y > 0 {
			continue
		}
		out = append(out, v)
	}
	return out
}

// area is the absolute area of a polygon.
func area(p []image.Point) float64 {
	s := 0
	for i, a := range p {
		b := p[(i+1)%len(p)]
		s += a.X*b.Y - b.X*a.Y
	}
	return math.Abs(float64(s)) / 2
}

// encodeOutline simplifies the polygons with tolerance eps and encodes them,
// nil if none survives.
func encodeOutline(polys [][]image.Point, eps float64) []byte {
	var s strings.Builder
	n := 0
	for _, p := range polys {
		q := simplifyClosed(p, eps)
		if len(q) < 3 || area(q) < 4*eps*eps {
			continue
		}
		if n > 0 {
			s.WriteString("zM")
		} else {
			s.WriteString("M")
		}
		n++
		s.WriteString(strconv.Itoa(q[0].X))
		s.WriteByte(',')
		s.WriteString(strconv.Itoa(q[0].Y))
		s.WriteByte('l')
		first := true
		for k := 1; k < len(q); k++ {
			d := q[k].Sub(q[k-1])
			writeNum(&s, d.X, first)
			writeNum(&s, d.Y, false)
			first = false
		}
	}
	if n == 0 {
		return nil
	}
	s.WriteByte('z')
	b, err := EncodePath(s.String())
	if err != nil {
		return nil
	}
	return b
}

// writeNum writes v after a command letter (first) or after another number:
// negative numbers need no separator.
func writeNum(s *strings.Builder, v int, first bool) {
	if v >= 0 && !first {
		s.WriteByte(',')
	}
	s.WriteString(strconv.Itoa(v))
}

// simplifyClosed is Douglas–Peucker on a closed polygon: split at the
// vertex farthest from the first, simplify both halves.
func simplifyClosed(p []image.Point, eps float64) []image.Point {
	if len(p) < 4 {
		return p
	}
	far, best := 0, -1.0
	for i, v := range p {
		if d := dist2(v, p[0]); d > best {
			far, best = i, d
		}
	}
	keep := make([]bool, len(p))
	keep[0], keep[far] = true, true
	ring := append(append([]image.Point{}, p...), p[0])
	dp(ring, 0, far, eps, keep)
	dp(ring, far, len(p), eps, keep)
	var out []image.Point
	for i, k := range keep {
		if k {
			out = append(out, p[i])
		}
	}
	return out
}

func dp(p []image.Point, i, j int, eps float64, keep []bool) {
	if j <= i+1 {
		return
	}
	k, best := -1, eps
	for m := i + 1; m < j; m++ {
		if d := segDist(p[m], p[i], p[j]); d > best {
			k, best = m, d
		}
	}
	if k < 0 {
		return
	}
	keep[k%len(keep)] = true
	dp(p, i, k, eps, keep)
	dp(p, k, j, eps, keep)
}

func dist2(a, b image.Point) float64 {
	dx, dy := float64(a.X-b.X), float64(a.Y-b.Y)
	return dx*dx + dy*dy
}

// segDist is the distance from p to the segment ab.
func segDist(p, a, b image.Point) float64 {
	abx, aby := float64(b.X-a.X), float64(b.Y-a.Y)
	apx, apy := float64(p.X-a.X), float64(p.Y-a.Y)
	l := abx*abx + aby*aby
	if l == 0 {
		return math.Sqrt(apx*apx + apy*apy)
	}
	t := math.Max(0, math.Min(1, (apx*abx+apy*aby)/l))
	dx, dy := apx-t*abx, apy-t*aby
	return math.Sqrt(dx*dx + dy*dy)
}
