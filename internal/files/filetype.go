package files

import "bytes"

// FileType names the storage.FileType constructors upload.getFile answers with.
type FileType string

const (
	TypeUnknown FileType = "unknown"
	TypePartial FileType = "partial"
	TypeJPEG    FileType = "jpeg"
	TypeGIF     FileType = "gif"
	TypePNG     FileType = "png"
	TypePDF     FileType = "pdf"
	TypeMP3     FileType = "mp3"
	TypeMOV     FileType = "mov"
	TypeMP4     FileType = "mp4"
	TypeWEBP    FileType = "webp"
)

// sniffLen is how much of a file's beginning DetectType looks at.
const sniffLen = 512

// DetectType recognizes the storage.FileType of content from its first bytes.
func DetectType(head []byte) FileType {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return TypeGIF
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return TypePDF
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return TypeWEBP
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		if string(head[8:12]) == "qt  " {
			return TypeMOV
		}
		return TypeMP4
	case len(head) >= 8 && string(head[4:8]) == "moov", len(head) >= 8 && string(head[4:8]) == "mdat":
		return TypeMOV // QuickTime files without an ftyp box
	case bytes.HasPrefix(head, []byte("ID3")), isMP3Frame(head):
		return TypeMP3
	}
	return TypeUnknown
}

// isMP3Frame reports whether head starts with an MPEG audio layer III frame
// header with a valid bitrate and sample rate.
func isMP3Frame(head []byte) bool {
	if len(head) < 4 || head[0] != 0xFF || head[1]&0xE0 != 0xE0 {
		return false
	}
	version := (head[1] >> 3) & 3
	layer := (head[1] >> 1) & 3
	bitrate := head[2] >> 4
	rate := (head[2] >> 2) & 3
	return version != 1 && layer == 1 && bitrate != 0 && bitrate != 15 && rate != 3
}
