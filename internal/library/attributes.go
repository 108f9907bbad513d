package library

import (
	"math"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

// What a document says about itself: its attributes and mime type. The
// client's attributes win: Telegram keeps what a client declares (a
// player's duration, a round video, a voice note's waveform) and clients
// rely on it, so the server only adds the attribute types the client left
// out. A file name the client declares must be a valid name; one taken from
// the InputFile is cleaned to its last path element instead.
//
// Attributes are stored as their TL encoding (store.Document.Attributes),
// so gotd's attribute types are the domain's here.

const (
	maxFileName   = 255 // bytes of a file name
	maxTagLen     = 256 // bytes of an audio title or performer
	maxAttributes = 16  // attributes a client may declare
	maxMimeLen    = 255 // bytes of a mime type
)

var (
	errFileName   = badRequest("FILENAME_INVALID")
	errAttributes = ErrMediaInvalid
	errMime       = badRequest("MIME_INVALID")
)

// validFileName reports whether s can be a file name on a client's disk:
// valid UTF-8, 1 to 255 bytes, no path separators or control characters,
// not "." or "..".
func validFileName(s string) bool {
	if s == "" || len(s) > maxFileName || !utf8.ValidString(s) || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '\\' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// cleanFileName makes a name from an InputFile's name: its last path
// element, or nothing when that is not a valid name.
func cleanFileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if !validFileName(s) {
		return ""
	}
	return s
}

// clip cuts s to at most n bytes on a rune boundary, dropping invalid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// contentMime names the mime type of content from its first bytes.
func contentMime(typ files.FileType, head []byte) string {
	switch typ {
	case files.TypeJPEG:
		return "image/jpeg"
	case files.TypePNG:
		return "image/png"
	case files.TypeGIF:
		return "image/gif"
	case files.TypeWEBP:
		return "image/webp"
	case files.TypePDF:
		return "application/pdf"
	case files.TypeMP3:
		return "audio/mpeg"
	case files.TypeMOV:
		return "video/quicktime"
	case files.TypeMP4:
		if len(head) >= 12 && string(head[8:11]) == "M4A" {
			return "audio/mp4"
		}
		return "video/mp4"
	}
	m, _, err := mime.ParseMediaType(http.DetectContentType(head))
	if err != nil {
		return "application/octet-stream"
	}
	if m == "application/ogg" {
		return "audio/ogg"
	}
	return m
}

func isAV(mimeType string) bool {
	return strings.HasPrefix(mimeType, "video/") || strings.HasPrefix(mimeType, "audio/")
}

// docAttrs are the attributes of a document being made, one per type.
type docAttrs struct {
	list           []tg.DocumentAttributeClass
	name, size, av bool // a file name, an image size, a video or audio attribute
	sticker        bool // documentAttributeSticker
}

func (a *docAttrs) add(x tg.DocumentAttributeClass) {
	switch x.(type) {
	case *tg.DocumentAttributeFilename:
		a.name = true
	case *tg.DocumentAttributeImageSize:
		a.size = true
	case *tg.DocumentAttributeVideo, *tg.DocumentAttributeAudio:
		a.av = true
	case *tg.DocumentAttributeSticker:
		a.sticker = true
	}
	a.list = append(a.list, x)
}

// clientAttrs checks the attributes a client declared, keeping the first of
// each type.
func clientAttrs(in []tg.DocumentAttributeClass) (*docAttrs, error) {
	if len(in) > maxAttributes {
		return nil, errAttributes
	}
	a := &docAttrs{}
	seen := map[uint32]bool{}
	for _, x := range in {
		if seen[x.TypeID()] {
			continue
		}
		seen[x.TypeID()] = true
		switch x := x.(type) {
		case *tg.DocumentAttributeFilename:
			if !validFileName(x.FileName) {
				return nil, errFileName
			}
		case *tg.DocumentAttributeImageSize:
			if x.W <= 0 || x.H <= 0 {
				return nil, errAttributes
			}
		case *tg.DocumentAttributeVideo:
			if x.W < 0 || x.H < 0 || x.Duration < 0 || math.IsNaN(x.Duration) || math.IsInf(x.Duration, 0) {
				return nil, errAttributes
			}
		case *tg.DocumentAttributeAudio:
			if x.Duration < 0 {
				return nil, errAttributes
			}
		}
		a.add(x)
	}
	return a, nil
}

func encodeAttrs(attrs []tg.DocumentAttributeClass) ([]byte, error) {
	var b bin.Buffer
	b.PutVectorHeader(len(attrs))
	for _, a := range attrs {
		if err := a.Encode(&b); err != nil {
			return nil, err
		}
	}
	return b.Buf, nil
}

// Attributes decodes a stored document's attributes.
func Attributes(d store.Document) ([]tg.DocumentAttributeClass, error) {
	if len(d.Attributes) == 0 {
		return nil, nil
	}
	b := &bin.Buffer{Buf: d.Attributes}
	n, err := b.VectorHeader()
	if err != nil {
		return nil, err
	}
	var attrs []tg.DocumentAttributeClass
	for i := 0; i < n; i++ {
		a, err := tg.DecodeDocumentAttribute(b)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}
