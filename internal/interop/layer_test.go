package interop

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"

	"github.com/filedc/filedc/internal/layer"
)

// rawBody sends bytes as they are; rawAnswer keeps the answer's bytes.
type rawBody []byte

func (r rawBody) Encode(b *bin.Buffer) error { b.Put(r); return nil }

type rawAnswer struct{ b []byte }

func (r *rawAnswer) Decode(b *bin.Buffer) error {
	r.b = append([]byte(nil), b.Buf...)
	return nil
}

// oldClient speaks an older layer through gotd's connection: each call is
// encoded with that layer's schema and each answer decoded with it, so a
// wrong constructor id or field fails the decode.
type oldClient struct {
	t      *testing.T
	ctx    context.Context
	invoke func(ctx context.Context, in bin.Encoder, out bin.Decoder) error
	s      *layer.Schema
	seen   map[string]bool // constructors seen in answers
}

func (c *oldClient) obj(name string, fields map[string]any) *layer.Object {
	c.t.Helper()
	o, err := c.s.Build(name, fields)
	if err != nil {
		c.t.Fatal(err)
	}
	return o
}

// call invokes a function of the layer; wrap puts it inside
// invokeWithLayer(initConnection(...)) as clients do first.
func (c *oldClient) call(name string, fields map[string]any, wrap bool) *layer.Object {
	c.t.Helper()
	v := c.callAny(name, fields, wrap)
	o, ok := v.(*layer.Object)
	if !ok {
		c.t.Fatalf("%s answered %T", name, v)
	}
	return o
}

func (c *oldClient) callAny(name string, fields map[string]any, wrap bool) any {
	c.t.Helper()
	q := c.obj(name, fields)
	if wrap {
		q = c.obj("invokeWithLayer", map[string]any{"layer": c.s.Layer, "query": c.obj("initConnection", map[string]any{
			"api_id": 1, "device_model": "interop", "system_version": "go", "app_version": "1", "system_lang_code": "en",
			"lang_pack": "", "lang_code": "en", "query": q})})
	}
	body, err := c.s.Marshal(q)
	if err != nil {
		c.t.Fatal(err)
	}
	var ans rawAnswer
	if err := c.invoke(c.ctx, rawBody(body), &ans); err != nil {
		c.t.Fatalf("layer %d %s: %v", c.s.Layer, name, err)
	}
	v, rest, err := c.s.Decode(ans.b, c.s.Function(name).Result)
	if err != nil || len(rest) != 0 {
		c.t.Fatalf("layer %d %s: the answer does not decode in the client's layer: %v (%d bytes left)", c.s.Layer, name, err, len(rest))
	}
	layer.Walk(v, func(o *layer.Object) {
		if c.s.Constructor(o.C.Name) != o.C {
			c.t.Errorf("layer %d: %s is not the layer's constructor", c.s.Layer, o.C.Name)
		}
		c.seen[o.C.Name] = true
	})
	return v
}

// upload saves a file in parts with raw calls and returns its inputFile.
func (c *oldClient) upload(id int64, name string, data []byte) *layer.Object {
	c.t.Helper()
	const part = 128 << 10
	n := 0
	for off := 0; off < len(data); off += part {
		ok := c.call("upload.saveFilePart", map[string]any{"file_id": int(id), "file_part": n,
			"bytes": data[off:min(off+part, len(data))]}, false)
		if ok.C.Name != "boolTrue" {
			c.t.Fatalf("saveFilePart answered %s", ok.C.Name)
		}
		n++
	}
	sum := md5.Sum(data)
	return c.obj("inputFile", map[string]any{"id": int(id), "parts": n, "name": name, "md5_checksum": hex.EncodeToString(sum[:])})
}

// download reads a document with upload.getFile, 128 KiB at a time.
func (c *oldClient) download(loc *layer.Object) []byte {
	c.t.Helper()
	var out []byte
	for {
		f := c.call("upload.getFile", map[string]any{"location": loc, "offset": len(out), "limit": 128 << 10}, false)
		chunk := f.Field("bytes").([]byte)
		out = append(out, chunk...)
		if len(chunk) < 128<<10 {
			return out
		}
	}
}

func field[T any](t *testing.T, o *layer.Object, name string) T {
	t.Helper()
	v, ok := o.Field(name).(T)
	if !ok {
		t.Fatalf("%s.%s is %T", o.C.Name, name, o.Field(name))
	}
	return v
}

// oldSentMessages checks an updates answer in the client's layer and returns
// the messages of its updateNewMessage, in order.
func oldSentMessages(t *testing.T, u *layer.Object, randomIDs ...int64) []*layer.Object {
	t.Helper()
	if u.C.Name != "updates" {
		t.Fatalf("answer %s", u.C.Name)
	}
	ids := map[int64]int32{}
	var msgs []*layer.Object
	for _, x := range field[[]any](t, u, "updates") {
		up := x.(*layer.Object)
		switch up.C.Name {
		case "updateMessageID":
			ids[field[int64](t, up, "random_id")] = field[int32](t, up, "id")
		case "updateNewMessage":
			msgs = append(msgs, field[*layer.Object](t, up, "message"))
		}
	}
	if len(msgs) != len(randomIDs) {
		t.Fatalf("%d messages for %d random ids", len(msgs), len(randomIDs))
	}
	for i, r := range randomIDs {
		if ids[r] != field[int32](t, msgs[i], "id") {
			t.Fatalf("random_id %d: no matching updateMessageID", r)
		}
	}
	return msgs
}

// TestS5_OldLayersOverTheWire: a client speaking layer 154, 165, 198 or
// 227 (gotd's
// connection declaring that layer, every call encoded with the old schema,
// every answer decoded with it) logs in, uploads, sends a document, a photo
// and an album, reads them back, sets a profile photo and downloads,
// against a real filedc process. Every constructor the server sends in
// these answers decodes in the client's layer.
//
// gotd decodes the config of its own initConnection with its own layer's
// types, so the client's layer must have the server's config: 154 is the
// oldest that has (up to 152 config had four limits more; gotd's client
// never connects). Layers before it are covered by the Telethon tests (144,
// with the client itself) and the bridge's tests.
func TestS5_OldLayersOverTheWire(t *testing.T) {
	reg := layer.Default()
	for _, l := range []int{154, 165, 198, 227} {
		t.Run(fmt.Sprint(l), func(t *testing.T) {
			if reg.Schema(l).Constructor("config").ID != reg.Schema(layer.ServerLayer).Constructor("config").ID {
				t.Fatalf("layer %d's config is not the server's: gotd cannot connect declaring it", l)
			}
			srv := startServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			// gotd asks for layer l in the invokeWithLayer it puts around
			// every call; the calls inside are encoded in layer l here.
			client := telegram.NewClient(1, "interop", telegram.Options{
				PublicKeys:     []telegram.PublicKey{{RSA: srv.key}},
				DC:             2,
				DCList:         dcs.List{Options: []tg.DCOption{{ID: 2, IPAddress: srv.addr.IP.String(), Port: srv.addr.Port, Static: true}}},
				Resolver:       dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate}),
				SessionStorage: &session.StorageMemory{},
				NoUpdates:      true,
				Layer:          l,
			})
			ran := false
			err := client.Run(ctx, func(ctx context.Context) error {
				defer cancel() // also when the test fails inside
				ran = true
				c := &oldClient{t: t, ctx: ctx, invoke: client.Invoke, s: layer.Default().Schema(l), seen: map[string]bool{}}
				oldLayerRoundtrip(t, c)
				return nil
			})
			if !ran {
				t.Fatalf("the client never connected: %v", err) // the timeout ends Run quietly
			}
			if err != nil && !t.Failed() && ctx.Err() == nil {
				t.Fatal(err)
			}
		})
	}
}

func oldLayerRoundtrip(t *testing.T, c *oldClient) {
	cfg := c.call("help.getConfig", nil, true)
	if field[int32](t, cfg, "this_dc") != 2 || len(field[[]any](t, cfg, "dc_options")) == 0 {
		t.Fatal("config")
	}
	auth := c.call("auth.importBotAuthorization", map[string]any{"flags": 0, "api_id": 1, "api_hash": "interop",
		"bot_auth_token": botToken}, false)
	me := field[*layer.Object](t, auth, "user")
	if me.C.Name != "user" || me.Field("bot") != true || me.Field("self") != true {
		t.Fatalf("authorization user %s %v", me.C.Name, me.Fields)
	}
	if me.C.ID == tg.UserTypeID {
		t.Fatal("the user came in the server's layer")
	}
	st := c.call("updates.getState", nil, false)
	if field[int32](t, st, "pts") < 1 {
		t.Fatal("updates.state")
	}

	// A document: parts, uploadMedia, sendMedia by reference.
	data := randomBytes(uint64(c.s.Layer), 300<<10+17)
	media := c.call("messages.uploadMedia", map[string]any{"peer": c.obj("inputPeerSelf", nil),
		"media": c.obj("inputMediaUploadedDocument", map[string]any{"file": c.upload(1, "data.bin", data),
			"mime_type": "application/octet-stream", "attributes": []any{
				c.obj("documentAttributeFilename", map[string]any{"file_name": "data.bin"})}})}, false)
	doc := field[*layer.Object](t, media, "document")
	if doc.C.Name != "document" || field[int64](t, doc, "size") != int64(len(data)) {
		t.Fatalf("uploadMedia: %s %v", doc.C.Name, doc.Fields)
	}
	inputDoc := c.obj("inputDocument", map[string]any{"id": doc.Field("id"), "access_hash": doc.Field("access_hash"),
		"file_reference": doc.Field("file_reference")})
	sent := oldSentMessages(t, c.call("messages.sendMedia", map[string]any{"peer": c.obj("inputPeerSelf", nil),
		"media": c.obj("inputMediaDocument", map[string]any{"id": inputDoc}), "message": "a document", "random_id": 101}, false), 101)
	msg := sent[0]
	if string(field[[]byte](t, msg, "message")) != "a document" ||
		field[*layer.Object](t, field[*layer.Object](t, msg, "media"), "document").Field("id") != doc.Field("id") {
		t.Fatalf("sent message %v", msg.Fields)
	}

	// A photo with its sizes.
	photoMsg := oldSentMessages(t, c.call("messages.sendMedia", map[string]any{"peer": c.obj("inputPeerSelf", nil),
		"media":   c.obj("inputMediaUploadedPhoto", map[string]any{"file": c.upload(2, "p.jpg", testJPEG(t, 900, 600))}),
		"message": "a photo", "random_id": 102}, false), 102)[0]
	photo := field[*layer.Object](t, field[*layer.Object](t, photoMsg, "media"), "photo")
	var types string
	for _, s := range field[[]any](t, photo, "sizes") {
		types += string(field[[]byte](t, s.(*layer.Object), "type"))
	}
	if photo.C.Name != "photo" || len(types) < 3 || types[0] != 'i' {
		t.Fatalf("photo %s sizes %q", photo.C.Name, types)
	}

	// An album of two.
	album := oldSentMessages(t, c.call("messages.sendMultiMedia", map[string]any{"peer": c.obj("inputPeerSelf", nil),
		"multi_media": []any{
			c.obj("inputSingleMedia", map[string]any{"media": c.obj("inputMediaDocument", map[string]any{"id": inputDoc}),
				"random_id": 103, "message": "one"}),
			c.obj("inputSingleMedia", map[string]any{"media": c.obj("inputMediaUploadedDocument", map[string]any{
				"file": c.upload(3, "two.bin", data[:5000]), "mime_type": "application/octet-stream"}),
				"random_id": 104, "message": "two"}),
		}}, false), 103, 104)
	if g := album[0].Field("grouped_id"); g == nil || g != album[1].Field("grouped_id") {
		t.Fatal("album without one grouped_id")
	}

	// Read back: getMessages and getHistory.
	ids := []any{}
	for _, m := range append([]*layer.Object{msg, photoMsg}, album...) {
		ids = append(ids, c.obj("inputMessageID", map[string]any{"id": int(field[int32](t, m, "id"))}))
	}
	got := c.call("messages.getMessages", map[string]any{"id": ids}, false)
	if n := len(field[[]any](t, got, "messages")); n != 4 || got.C.Name != "messages.messages" {
		t.Fatalf("getMessages: %s with %d messages", got.C.Name, n)
	}
	hist := c.call("messages.getHistory", map[string]any{"peer": c.obj("inputPeerSelf", nil), "limit": 10}, false)
	if n := len(field[[]any](t, hist, "messages")); n != 4 {
		t.Fatalf("getHistory: %d messages", n)
	}
	fresh := field[*layer.Object](t, field[*layer.Object](t, field[[]any](t, got, "messages")[0].(*layer.Object), "media"), "document")

	// Download with the reference getMessages gave, and by hash.
	loc := c.obj("inputDocumentFileLocation", map[string]any{"id": fresh.Field("id"), "access_hash": fresh.Field("access_hash"),
		"file_reference": fresh.Field("file_reference"), "thumb_size": ""})
	if back := c.download(loc); !bytes.Equal(back, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d sent", len(back), len(data))
	}
	hashes := c.callAny("upload.getFileHashes", map[string]any{"location": loc, "offset": 0}, false).([]any)
	if len(hashes) == 0 {
		t.Fatal("no file hashes")
	}
	sum := sha256.Sum256(data)
	byHash := c.call("messages.getDocumentByHash", map[string]any{"sha256": sum[:], "size": int64(len(data)),
		"mime_type": "application/octet-stream"}, false)
	if byHash.C.Name != "document" || byHash.Field("id") != doc.Field("id") {
		t.Fatalf("getDocumentByHash: %s", byHash.C.Name)
	}

	// Profile photos.
	pp := c.call("photos.uploadProfilePhoto", map[string]any{"file": c.upload(4, "me.jpg", testJPEG(t, 640, 640))}, false)
	profile := field[*layer.Object](t, pp, "photo")
	inputPhoto := c.obj("inputPhoto", map[string]any{"id": profile.Field("id"), "access_hash": profile.Field("access_hash"),
		"file_reference": profile.Field("file_reference")})
	users := c.callAny("users.getUsers", map[string]any{"id": []any{c.obj("inputUserSelf", nil)}}, false).([]any)
	if up := users[0].(*layer.Object).Field("photo"); up == nil || up.(*layer.Object).C.Name != "userProfilePhoto" {
		t.Fatal("the user has no profile photo")
	}
	if n := len(field[[]any](t, c.call("photos.getUserPhotos", map[string]any{"user_id": c.obj("inputUserSelf", nil),
		"limit": 10}, false), "photos")); n != 1 {
		t.Fatalf("getUserPhotos: %d photos", n)
	}
	c.call("photos.updateProfilePhoto", map[string]any{"id": inputPhoto}, false)
	deleted := c.callAny("photos.deletePhotos", map[string]any{"id": []any{inputPhoto}}, false).([]any)
	if len(deleted) != 1 || deleted[0] != profile.Field("id") {
		t.Fatalf("deletePhotos: %v", deleted)
	}

	// The constructors that differ between layers came in the client's.
	want := []string{"config", "dcOption", "auth.authorization", "user", "userProfilePhoto", "updates.state",
		"boolTrue", "messageMediaDocument", "document", "documentAttributeFilename", "updates", "updateMessageID",
		"updateNewMessage", "message", "peerUser", "messageMediaPhoto", "photo", "photoSize", "photoStrippedSize",
		"messages.messages", "upload.file", "storage.filePartial", "fileHash", "photos.photo", "photos.photos"}
	var missing []string
	for _, name := range want {
		if !c.seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		seen := []string{}
		for name := range c.seen {
			seen = append(seen, name)
		}
		slices.Sort(seen)
		t.Errorf("layer %d: never seen %v (seen %v)", c.s.Layer, missing, seen)
	}
}
