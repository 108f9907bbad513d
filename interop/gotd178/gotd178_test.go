package gotd178

import (
	"fmt"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/interop/gotdtest"
)

// TestS5_Gotd178Layer: the gotd/td this module builds with is v0.100.0, the
// release of layer 178 (a newer one, raised by another module's
// requirement, would speak a newer layer).
func TestS5_Gotd178Layer(t *testing.T) {
	if tg.Layer != 178 {
		t.Fatalf("gotd/td of this module speaks layer %d, want 178", tg.Layer)
	}
}

// TestS5_Gotd178Roundtrip: bot login, a 1 MiB and a 30 MiB file up with 4
// threads, to Saved Messages, back with getMessages, down with 4 threads.
func TestS5_Gotd178Roundtrip(t *testing.T) { gotdtest.Roundtrip(t, 30<<20) }

// TestM3_Gotd178Album: three documents as one album.
func TestM3_Gotd178Album(t *testing.T) { gotdtest.Album(t) }

// TestM5_Gotd178PhotoSizes: a photo and each of its sizes.
func TestM5_Gotd178PhotoSizes(t *testing.T) { gotdtest.PhotoSizes(t) }

// TestS5_Gotd178VideoDuration: since layer 160 a video's duration is a
// double, as in the server's layer: 7.25 seconds come back as they are.
func TestS5_Gotd178VideoDuration(t *testing.T) {
	video := &tg.DocumentAttributeVideo{SupportsStreaming: true, Duration: 7.25, W: 640, H: 360}
	gotdtest.DeclaredAttributes(t, "video/mp4", []tg.DocumentAttributeClass{video}, func(d *tg.Document) error {
		for _, a := range d.Attributes {
			if v, ok := a.(*tg.DocumentAttributeVideo); ok {
				if v.Duration != 7.25 || v.W != 640 || v.H != 360 || !v.SupportsStreaming {
					return fmt.Errorf("video attribute %+v", v)
				}
				return nil
			}
		}
		return fmt.Errorf("no video attribute in %v", d.Attributes)
	})
}
