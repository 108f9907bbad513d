package library

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
)

func TestD7_FileReferences(t *testing.T) {
	refs := newFileRefs([]byte("a dc secret"), 2*time.Hour)
	now := time.Unix(1_800_000_000, 0)
	file := files.FileRef{ID: 10, AccessHash: -20}
	from := MessageOrigin(77, 5)
	ref := refs.issue(file, from, now)
	check := func(what string, got error, want error) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	errOf := func(_ Origin, err error) error { return err }
	if o, err := refs.check(file, ref, now.Add(time.Hour)); err != nil || o != from {
		t.Errorf("fresh: origin %+v, %v; want %+v", o, err, from)
	}
	check("at the end of its lifetime", errOf(refs.check(file, ref, now.Add(2*time.Hour))), nil)
	check("stale", errOf(refs.check(file, ref, now.Add(2*time.Hour+time.Second))), errFileRefExpired)
	check("another file", errOf(refs.check(files.FileRef{ID: 11, AccessHash: -20}, ref, now)), errFileRefInvalid)
	check("empty", errOf(refs.check(file, nil, now)), errFileRefInvalid)
	forged := append([]byte(nil), ref...)
	forged[len(forged)-1] ^= 1
	check("forged", errOf(refs.check(file, forged, now)), errFileRefInvalid)
	// Moving the issue time forward, or naming another origin, breaks the tag.
	for i, what := range map[int]string{14: "re-dated", 1: "another kind", 2: "another owner", 10: "another message"} {
		changed := append([]byte(nil), ref...)
		changed[i]++
		check(what, errOf(refs.check(file, changed, now.Add(3*time.Hour))), errFileRefInvalid)
	}
	// Another DC secret does not accept it.
	check("other secret", errOf(newFileRefs([]byte("another"), 2*time.Hour).check(file, ref, now)), errFileRefInvalid)
	// A fresh fetch issues a fresh reference.
	if again := refs.issue(file, ProfileOrigin(3), now.Add(3*time.Hour)); errOf(refs.check(file, again, now.Add(3*time.Hour))) != nil {
		t.Error("a re-issued reference is not accepted")
	}
}

// Rule D7: a reference is valid while it is fresh and its origin still
// holds the object: the object itself while it exists, a message until it
// is deleted, a profile until the photo leaves it, a chat while the photo
// is the chat's.
func TestD7_ReferenceOriginsAndExpiry(t *testing.T) {
	l := newTestLib(t, func(c *Config) { c.FileRefTTL = time.Minute })
	ctx := context.Background()
	d, err := l.UploadDocument(ctx, testOwner, DocumentUpload{File: l.upload(t, 1, "a.png", picture(t, 64, 64))})
	if err != nil {
		t.Fatal(err)
	}
	doc := files.FileRef{ID: d.ID, AccessHash: d.AccessHash}
	valid := func(what string, obj files.FileRef, ref []byte) {
		t.Helper()
		if err := l.CheckRef(ctx, obj, ref); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	// The object itself; stale after the TTL.
	ref := l.Ref(doc, ObjectOrigin)
	valid("from the object", doc, ref)
	*l.now = l.now.Add(time.Minute + time.Second)
	wantError(t, "stale", l.CheckRef(ctx, doc, ref), 400, "FILE_REFERENCE_EXPIRED")
	_, err = l.Document(ctx, Named{ID: d.ID, AccessHash: d.AccessHash, FileReference: ref}, ErrMediaInvalid)
	wantError(t, "a document named with a stale reference", err, 400, "FILE_REFERENCE_EXPIRED")
	_, err = l.Document(ctx, Named{ID: d.ID, AccessHash: d.AccessHash + 1, FileReference: l.Ref(doc, ObjectOrigin)}, ErrMediaInvalid)
	wantError(t, "a wrong access hash", err, 400, "MEDIA_INVALID")

	// A message that names the document, by its objects or only by its
	// stored media (messages stored before objects were kept).
	var media bin.Buffer
	if err := (&tg.MessageMediaDocument{Document: &tg.Document{ID: d.ID, AccessHash: d.AccessHash}}).Encode(&media); err != nil {
		t.Fatal(err)
	}
	named := &store.Message{Owner: testOwner, Peer: testOwner, From: testOwner, Out: true, Date: *l.now, Objects: []int64{d.ID}}
	legacy := &store.Message{Owner: testOwner, Peer: testOwner, From: testOwner, Out: true, Date: *l.now, Media: media.Buf}
	other := &store.Message{Owner: testOwner, Peer: testOwner, From: testOwner, Out: true, Date: *l.now, Text: "no media"}
	if err := l.meta.AddMessages(ctx, []*store.Message{named, legacy, other}); err != nil {
		t.Fatal(err)
	}
	fromNamed, fromLegacy := l.Ref(doc, MessageOrigin(testOwner, named.ID)), l.Ref(doc, MessageOrigin(testOwner, legacy.ID))
	valid("from a message naming it", doc, fromNamed)
	valid("from a message whose media names it", doc, fromLegacy)
	wantError(t, "from a message without it", l.CheckRef(ctx, doc, l.Ref(doc, MessageOrigin(testOwner, other.ID))), 400, "FILE_REFERENCE_INVALID")
	wantError(t, "from another account's message", l.CheckRef(ctx, doc, l.Ref(doc, MessageOrigin(testOwner+1, named.ID))), 400, "FILE_REFERENCE_INVALID")
	if _, _, err := l.meta.DeleteMessages(ctx, testOwner, []int{named.ID}); err != nil {
		t.Fatal(err)
	}
	wantError(t, "from a deleted message", l.CheckRef(ctx, doc, fromNamed), 400, "FILE_REFERENCE_INVALID")

	// A profile photo, until it leaves the profile.
	file := l.upload(t, 2, "me.png", picture(t, 200, 200))
	p, err := l.ProfilePhoto(ctx, testOwner, ProfileUpload{File: &file})
	if err != nil {
		t.Fatal(err)
	}
	photo := files.FileRef{ID: p.ID, AccessHash: p.AccessHash}
	fromProfile := l.Ref(photo, ProfileOrigin(testOwner))
	wantError(t, "from a profile it is not in yet", l.CheckRef(ctx, photo, fromProfile), 400, "FILE_REFERENCE_INVALID")
	if _, err := l.AddProfilePhoto(ctx, testOwner, p); err != nil {
		t.Fatal(err)
	}
	valid("from the profile", photo, fromProfile)

	// A chat's photo, while it is the chat's.
	chat := store.Chat{ID: 5, Title: "chat", Creator: testOwner, Date: *l.now, Photo: p.ID,
		Members: []store.ChatMember{{User: testOwner, Admin: true, Date: *l.now}}}
	if err := l.meta.CreateChat(ctx, chat); err != nil {
		t.Fatal(err)
	}
	fromChat := l.Ref(photo, ChatOrigin(chat.Peer()))
	valid("from the chat", photo, fromChat)
	if _, err := l.meta.UpdateChat(ctx, chat.ID, func(c *store.Chat) error { c.Photo = 0; return nil }); err != nil {
		t.Fatal(err)
	}
	wantError(t, "from a chat with another photo", l.CheckRef(ctx, photo, fromChat), 400, "FILE_REFERENCE_INVALID")

	if _, err := l.DeleteProfilePhotos(ctx, testOwner, []files.FileRef{photo}); err != nil {
		t.Fatal(err)
	}
	wantError(t, "from a profile it left", l.CheckRef(ctx, photo, fromProfile), 400, "FILE_REFERENCE_INVALID")
}
