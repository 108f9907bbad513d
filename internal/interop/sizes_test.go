package interop

import (
	"bytes"
	"image/jpeg"
	"maps"
	"os"
	"slices"
	"testing"
)

// clientSize is a photo size a client (GramJS, Telethon) downloaded and
// wrote to a file, as its scenario reports it.
type clientSize struct {
	Class        string `json:"class"`
	Type         string `json:"type"`
	Thumb        int    `json:"thumb"` // Telethon: the index download_media(thumb=) took
	W            int    `json:"w"`
	H            int    `json:"h"`
	Size         int    `json:"size"`
	Downloaded   int    `json:"downloaded"`
	SHA256       string `json:"sha256"`
	GetFileCalls int    `json:"get_file_calls"` // Telethon: upload.getFile calls it took
	File         string `json:"file"`
}

// checkClientSizes checks the sizes a client downloaded: each decodes as a
// JPEG of the announced dimensions (want, by type), the stripped "i" one,
// expanded by the client, within 40×40 and as wide as the image. With
// indexed (Telethon), the client also reported the thumb index of each and
// its getFile calls, and ordered the sizes itself (the stripped one first,
// then by size). It returns the sizes by type.
func checkClientSizes(t *testing.T, client string, indexed bool, what string, sizes []clientSize, want map[string][2]int) map[string]clientSize {
	t.Helper()
	seen := map[string]clientSize{}
	for i, s := range sizes {
		raw, err := os.ReadFile(s.File)
		if err != nil {
			t.Fatal(err)
		}
		if (indexed && s.Thumb != i) || len(raw) != s.Downloaded || sha256Hex(raw) != s.SHA256 {
			t.Errorf("%s size %s: thumb=%d, the file written differs from what %s downloaded", what, s.Type, s.Thumb, client)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("%s size %s (%s): %d bytes that do not decode as JPEG: %v", what, s.Type, s.Class, len(raw), err)
			continue
		}
		switch s.Class {
		case "PhotoStrippedSize":
			if (indexed && i != 0) || s.Type != "i" || cfg.Width > 40 || cfg.Height > 40 || cfg.Width < cfg.Height || s.GetFileCalls != 0 {
				t.Errorf("%s stripped size %s (thumb=%d) expands to %dx%d", what, s.Type, i, cfg.Width, cfg.Height)
			}
		case "PhotoSize":
			dims, ok := want[s.Type]
			if !ok || s.W != dims[0] || s.H != dims[1] || cfg.Width != s.W || cfg.Height != s.H {
				t.Errorf("%s size %s announced %dx%d, downloaded %dx%d", what, s.Type, s.W, s.H, cfg.Width, cfg.Height)
			}
			if s.Downloaded != s.Size || (indexed && s.GetFileCalls != 1) {
				t.Errorf("%s size %s announced %d bytes, downloaded %d in %d calls", what, s.Type, s.Size, s.Downloaded, s.GetFileCalls)
			}
			if indexed && i > 0 && sizes[i-1].Class == "PhotoSize" && sizes[i-1].Size > s.Size {
				t.Errorf("%s: %s ordered size %s after the larger %s", what, client, s.Type, sizes[i-1].Type)
			}
		default:
			t.Errorf("%s: unexpected size %s of class %s", what, s.Type, s.Class)
		}
		seen[s.Type] = s
	}
	for _, typ := range append(slices.Sorted(maps.Keys(want)), "i") {
		if _, ok := seen[typ]; !ok {
			t.Errorf("%s: no %s size", what, typ)
		}
	}
	return seen
}
