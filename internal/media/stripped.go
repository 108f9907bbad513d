package media

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
)

// strippedHeader is the JFIF header every Telegram client prepends to
// photoStrippedSize bytes, byte for byte as in Telegram Desktop's
// Images::ExpandInlineBytes (Telegram/SourceFiles/ui/image/image.cpp, later
// lib_ui ui/image/image_prepare.cpp) and GramJS's JPEG_HEADER
// (gramjs/Utils.ts, strippedPhotoToJpg, "ported from tdesktop"). It is:
//
//	SOI; APP0 JFIF 1.1, no density; DQT table 0 and DQT table 1 (the IJG
//	luminance and chrominance tables scaled for quality 20); SOF0 8-bit,
//	height 0, width 0, three components Y 2x2 table 0, Cb 1x1 table 1,
//	Cr 1x1 table 1; DHT DC0, AC0, DC1, AC1 (the standard tables of ITU T.81
//	annex K.3); SOS Y DC0/AC0, Cb DC1/AC1, Cr DC1/AC1, spectral 0..63.
//
// Clients patch the height into byte 164 and the width into byte 166 (the
// low bytes of the SOF0 fields; the high bytes stay 0, so a stripped
// thumbnail is at most 255×255), append the scan data and FF D9.
var strippedHeader = mustHex("" +
	"ffd8ffe000104a46494600010100000100010000" +
	"ffdb004300281c1e231e19282321232d2b28303c64413c37373c7b585d4964918099968f808c8aa0b4e6c3a0aadaad8a8cc8ffcbdaeef5ffffff9bc1fffffffaffe6fdfff8" +
	"ffdb0043012b2d2d3c353c76414176f8a58ca5f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8" +
	"ffc00011080000000003012200021101031101" +
	"ffc4001f0000010501010101010100000000000000000102030405060708090a0b" +
	"ffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa" +
	"ffc4001f0100030101010101010101010000000000000102030405060708090a0b" +
	"ffc400b51100020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa" +
	"ffda000c03010002110311003f00")

const (
	strippedHeightAt = 164
	strippedWidthAt  = 166
	// StrippedBox is the box a stripped thumbnail fits in.
	StrippedBox = 40
	// StrippedQuality is the quality whose tables the fixed header holds.
	StrippedQuality = 20
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// ExpandStripped rebuilds the JPEG of photoStrippedSize bytes exactly as
// clients do, nil if b is not in the 0x01 format.
func ExpandStripped(b []byte) []byte {
	if len(b) < 3 || b[0] != 1 {
		return nil
	}
	out := make([]byte, 0, len(strippedHeader)+len(b)-3+2)
	out = append(out, strippedHeader...)
	out[strippedHeightAt] = b[1]
	out[strippedWidthAt] = b[2]
	out = append(out, b[3:]...)
	return append(out, 0xff, 0xd9)
}

// Stripped returns the photoStrippedSize bytes of img: img composited over
// white, scaled to fit 40×40 (never up), encoded as a baseline 4:2:0 JPEG at
// quality 20, whose scan data follows 0x01, height, width. The encoder's
// tables are checked against the fixed header on every call, so a Go release
// that changed them would make Stripped fail instead of producing thumbnails
// clients decode wrongly.
func Stripped(img image.Image) ([]byte, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, errors.New("media: stripped thumbnail of an empty image")
	}
	return stripped(toYCC(img, b))
}

func stripped(m *ycc) ([]byte, error) {
	w, h := fit(m.w, m.h, StrippedBox)
	small := m.scale(w, h)
	var buf bytes.Buffer
	// Always three components: the header declares Y, Cb and Cr.
	if err := jpeg.Encode(&buf, small.ycbcr(), &jpeg.Options{Quality: StrippedQuality}); err != nil {
		return nil, err
	}
	scan, err := strippedScan(buf.Bytes())
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 3+len(scan))
	out = append(out, 1, byte(h), byte(w))
	return append(out, scan...), nil
}

// jpegParts is what strippedScan compares: the tables by destination, the
// frame's component specification and the scan header.
type jpegParts struct {
	dqt        map[byte][]byte // Pq|Tq -> Pq|Tq and 64 values
	dht        map[byte][]byte // Tc|Th -> Tc|Th, 16 counts and the values
	sofComps   []byte          // SOF0 after precision, height and width
	width      int
	height     int
	sos        []byte // the SOS segment's payload
	scan       []byte // entropy-coded data up to the final FF D9
	baseline   bool
	otherMarks []byte // markers other than APPn/DQT/SOF0/DHT/SOS
}

// parseJPEG splits a single-scan JPEG into its parts. It accepts what Go's
// encoder and the fixed header produce: markers up to one SOS, then scan data
// ending with FF D9.
func parseJPEG(b []byte) (*jpegParts, error) {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return nil, errors.New("media: not a JPEG")
	}
	p := &jpegParts{dqt: map[byte][]byte{}, dht: map[byte][]byte{}}
	i := 2
	for {
		if i+4 > len(b) || b[i] != 0xff {
			return nil, fmt.Errorf("media: bad JPEG marker at %d", i)
		}
		marker := b[i+1]
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil, fmt.Errorf("media: bad JPEG segment length at %d", i)
		}
		seg := b[i+4 : i+2+n]
		i += 2 + n
		switch {
		case marker >= 0xe0 && marker <= 0xef:
		case marker == 0xdb:
			for len(seg) > 0 {
				if seg[0]>>4 != 0 || len(seg) < 65 {
					return nil, errors.New("media: unsupported DQT")
				}
				p.dqt[seg[0]] = seg[:65]
				seg = seg[65:]
			}
		case marker == 0xc4:
			for len(seg) > 0 {
				if len(seg) < 17 {
					return nil, errors.New("media: short DHT")
				}
				n := 0
				for _, c := range seg[1:17] {
					n += int(c)
				}
				if len(seg) < 17+n {
					return nil, errors.New("media: short DHT")
				}
				p.dht[seg[0]] = seg[:17+n]
				seg = seg[17+n:]
			}
		case marker == 0xc0:
			if len(seg) < 6 {
				return nil, errors.New("media: short SOF0")
			}
			p.baseline = true
			p.height = int(binary.BigEndian.Uint16(seg[1:]))
			p.width = int(binary.BigEndian.Uint16(seg[3:]))
			p.sofComps = seg[5:]
		case marker == 0xda:
			p.sos = seg
			if len(b)-i < 2 || b[len(b)-2] != 0xff || b[len(b)-1] != 0xd9 {
				return nil, errors.New("media: JPEG does not end with EOI")
			}
			p.scan = b[i : len(b)-2]
			return p, nil
		default:
			p.otherMarks = append(p.otherMarks, marker)
		}
	}
}

// headerParts is the fixed header parsed once.
var headerParts = func() *jpegParts {
	p, err := parseJPEG(append(append([]byte{}, strippedHeader...), 0xff, 0xd9))
	if err != nil {
		panic(err)
	}
	return p
}()

// strippedScan returns the scan data of a JPEG made by Go's encoder after
// checking that the fixed header describes it exactly: same quantization
// tables, same Huffman tables, same components and sampling, same scan
// header. Only the framing differs (Go writes all tables of a kind in one
// segment, the header one per segment), which does not change the scan.
func strippedScan(enc []byte) ([]byte, error) {
	p, err := parseJPEG(enc)
	if err != nil {
		return nil, err
	}
	if err := sameCoding(p, headerParts); err != nil {
		return nil, err
	}
	return p.scan, nil
}

// sameCoding reports how p's coding differs from q's, nil if it does not.
func sameCoding(p, q *jpegParts) error {
	if !p.baseline || len(p.otherMarks) > 0 {
		return errors.New("media: encoder did not write a plain baseline JPEG")
	}
	if len(p.dqt) != len(q.dqt) || len(p.dht) != len(q.dht) {
		return errors.New("media: encoder tables differ from the stripped header")
	}
	for k, v := range q.dqt {
		if !bytes.Equal(p.dqt[k], v) {
			return fmt.Errorf("media: quantization table %d differs from the stripped header", k)
		}
	}
	for k, v := range q.dht {
		if !bytes.Equal(p.dht[k], v) {
			return fmt.Errorf("media: Huffman table %#x differs from the stripped header", k)
		}
	}
	if !bytes.Equal(p.sofComps, q.sofComps) {
		return errors.New("media: frame components differ from the stripped header")
	}
	if !bytes.Equal(p.sos, q.sos) {
		return errors.New("media: scan header differs from the stripped header")
	}
	return nil
}
