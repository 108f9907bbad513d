package interop

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// TestD7_ReferencesPerOriginExpireAndRefresh: references come from a
// message, a profile photo list or an uploadMedia answer; they expire after
// --file-reference-ttl, fetching the origin again gives fresh ones, and a
// reference whose message is gone is invalid.
func TestD7_ReferencesPerOriginExpireAndRefresh(t *testing.T) {
	// Each fresh reference is tried as soon as it is issued: on slow
	// backends the three origins together may take longer than the TTL.
	const ttl = 3 * time.Second
	srv := startServer(t, "--file-reference-ttl", ttl.String())
	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		getDoc := func(d *tg.Document) error {
			_, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Limit: 4096, Location: &tg.InputDocumentFileLocation{
				ID: d.ID, AccessHash: d.AccessHash, FileReference: d.FileReference}})
			return err
		}
		getPhoto := func(p *tg.Photo) error {
			_, err := api.UploadGetFile(ctx, &tg.UploadGetFileRequest{Limit: 4096, Location: &tg.InputPhotoFileLocation{
				ID: p.ID, AccessHash: p.AccessHash, FileReference: p.FileReference, ThumbSize: "a"}})
			return err
		}
		// From a message.
		inMessage, err := sendDocument(ctx, t, api, "m.bin", randomBytes(71, 9000), &tg.InputMediaUploadedDocument{})
		if err != nil {
			return err
		}
		if err := getDoc(inMessage); err != nil {
			t.Errorf("a fresh reference from the message: %v", err)
		}
		msgID := history(ctx, t, api, &tg.InputPeerSelf{})[0].ID
		// From uploadMedia.
		uploaded := randomBytes(72, 9000)
		file, err := upload(ctx, api, "u.bin", uploaded)
		if err != nil {
			return err
		}
		res, err := api.MessagesUploadMedia(ctx, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{}, Media: &tg.InputMediaUploadedDocument{File: file}})
		if err != nil {
			return err
		}
		standalone := res.(*tg.MessageMediaDocument).Document.(*tg.Document)
		if err := getDoc(standalone); err != nil {
			t.Errorf("a fresh reference from uploadMedia: %v", err)
		}
		// From the profile.
		pf, err := upload(ctx, api, "me.jpg", testJPEG(t, 200, 200))
		if err != nil {
			return err
		}
		if _, err := api.PhotosUploadProfilePhoto(ctx, &tg.PhotosUploadProfilePhotoRequest{File: pf}); err != nil {
			return err
		}
		profile := func() *tg.Photo {
			res, err := api.PhotosGetUserPhotos(ctx, &tg.PhotosGetUserPhotosRequest{UserID: &tg.InputUserSelf{}, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			return res.(*tg.PhotosPhotos).Photos[0].(*tg.Photo)
		}
		photo := profile()
		if err := getPhoto(photo); err != nil {
			t.Errorf("a fresh reference from the profile: %v", err)
		}

		time.Sleep(ttl + 1500*time.Millisecond) // issue times have a one-second resolution
		for what, err := range map[string]error{"message": getDoc(inMessage), "uploadMedia": getDoc(standalone), "profile": getPhoto(photo)} {
			if !tgerr.Is(err, "FILE_REFERENCE_EXPIRED") {
				t.Errorf("an old reference from the %s: %v, want FILE_REFERENCE_EXPIRED", what, err)
			}
		}
		// Fetching each origin again refreshes.
		got, err := api.MessagesGetMessages(ctx, []tg.InputMessageClass{&tg.InputMessageID{ID: msgID}})
		if err != nil {
			return err
		}
		if err := getDoc(docOf(t, got.(*tg.MessagesMessages).Messages[0].(*tg.Message))); err != nil {
			t.Errorf("after getMessages: %v", err)
		}
		if err := getDoc(docOf(t, history(ctx, t, api, &tg.InputPeerSelf{})[0])); err != nil {
			t.Errorf("after getHistory: %v", err)
		}
		sum := sha256.Sum256(uploaded)
		found, err := api.MessagesGetDocumentByHash(ctx, &tg.MessagesGetDocumentByHashRequest{SHA256: sum[:], Size: int64(len(uploaded)), MimeType: standalone.MimeType})
		if err != nil {
			return err
		}
		if err := getDoc(found.(*tg.Document)); err != nil {
			t.Errorf("after getDocumentByHash: %v", err)
		}
		if err := getPhoto(profile()); err != nil {
			t.Errorf("after getUserPhotos: %v", err)
		}

		// The same document in two messages: when one message goes, its
		// references are invalid while the other's work.
		fresh := docOf(t, history(ctx, t, api, &tg.InputPeerSelf{})[0])
		res2, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: &tg.InputPeerSelf{}, RandomID: 77,
			Media: &tg.InputMediaDocument{ID: &tg.InputDocument{ID: fresh.ID, AccessHash: fresh.AccessHash, FileReference: fresh.FileReference}}})
		if err != nil {
			return err
		}
		other := docOf(t, sentMessages(t, res2, 77)[0])
		deleteMessages(ctx, t, api, false, 1, msgID)
		if err := getDoc(fresh); !tgerr.Is(err, "FILE_REFERENCE_INVALID") {
			t.Errorf("a reference from a deleted message: %v, want FILE_REFERENCE_INVALID", err)
		}
		if err := getDoc(other); err != nil {
			t.Errorf("the other message's reference: %v", err)
		}
		// A reference names its object: it does not open another one.
		swapped := *other
		swapped.FileReference = standalone.FileReference
		if err := getDoc(&swapped); !tgerr.Is(err, "FILE_REFERENCE_INVALID") {
			t.Errorf("another object's reference: %v", err)
		}
		return nil
	})
}
