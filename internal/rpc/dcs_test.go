package rpc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/randid"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/bolt"
	"github.com/filedc/filedc/internal/store/local"
)

// testDC is one DC of a two-DC cluster (1 and 2) on its own embedded store.
type testDC struct {
	h    *Handler
	meta *bolt.Meta
	now  *time.Time
}

func newTestDC(t testing.TB, id int, secret string, edits ...func(*Config)) *testDC {
	t.Helper()
	dir := t.TempDir()
	meta, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	disk, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := files.New(context.Background(), files.Config{DC: id}, disk, disk, meta)
	if err != nil {
		t.Fatal(err)
	}
	var opts []cluster.Option
	for dc, addr := range map[int]string{1: "127.0.0.1:5001", 2: "127.0.0.1:5002"} {
		opts = append(opts, cluster.Option{DC: dc, Addr: netip.MustParseAddrPort(addr)})
	}
	m, err := cluster.NewMap(id, netip.AddrPort{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	d := &testDC{meta: meta, now: &now}
	cfg := Config{DC: id, Engine: eng, Accounts: meta, Keys: meta, Messages: meta, Documents: meta, Photos: meta, Chats: meta,
		Secret: []byte(secret), Cluster: m, Once: meta, Now: func() time.Time { return *d.now }}
	for _, edit := range edits {
		edit(&cfg)
	}
	d.h = New(cfg)
	return d
}

func loggedIn(user int64) *server.Key {
	k := &server.Key{}
	k.Update(func(r *store.AuthKey) { r.UserID = user })
	return k
}

func wantRPCError(t *testing.T, what string, err error, code int, msg string) {
	t.Helper()
	var re *server.RPCError
	if !errors.As(apiError(err), &re) || re.Code != code || re.Message != msg {
		t.Errorf("%s: %v, want %d %s", what, err, code, msg)
	}
}

func TestS6_ExportImportAuthorization(t *testing.T) {
	const secret = "one cluster secret, 32 bytes...."
	dc1, dc2 := newTestDC(t, 1, secret), newTestDC(t, 2, secret)
	ctx := context.Background()
	acc := store.Account{ID: 7000001, Bot: true, Name: "uploader", Username: "uploader_bot", Secret: "s", AccessKey: 99}
	if err := dc1.meta.PutAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	user := loggedIn(acc.ID)

	_, err := invoke(t, dc1.h, &server.Key{}, &tg.AuthExportAuthorizationRequest{DCID: 2})
	wantRPCError(t, "export before login", err, 401, "AUTH_KEY_UNREGISTERED")
	for _, dc := range []int{1, 3, 0, -2} {
		_, err := invoke(t, dc1.h, user, &tg.AuthExportAuthorizationRequest{DCID: dc})
		wantRPCError(t, "export to DC "+strconv.Itoa(dc), err, 400, "DC_ID_INVALID")
	}
	export := func() *tg.AuthExportedAuthorization {
		t.Helper()
		res, err := invoke(t, dc1.h, user, &tg.AuthExportAuthorizationRequest{DCID: 2})
		if err != nil {
			t.Fatal(err)
		}
		ex := res.(*tg.AuthExportedAuthorization)
		if ex.ID != acc.ID || len(ex.Bytes) == 0 {
			t.Fatalf("exported %+v", ex)
		}
		return ex
	}
	importOn := func(d *testDC, key *server.Key, id int64, b []byte) (bin.Encoder, error) {
		return invoke(t, d.h, key, &tg.AuthImportAuthorizationRequest{ID: id, Bytes: b})
	}

	ex := export()
	_, err = importOn(dc1, &server.Key{}, ex.ID, ex.Bytes)
	wantRPCError(t, "import on the DC that exported", err, 400, "AUTH_BYTES_INVALID")
	_, err = importOn(dc2, &server.Key{}, ex.ID+1, ex.Bytes)
	wantRPCError(t, "import under another user id", err, 400, "AUTH_BYTES_INVALID")
	forged := bytes.Clone(ex.Bytes)
	forged[len(forged)/2] ^= 0x40
	_, err = importOn(dc2, &server.Key{}, ex.ID, forged)
	wantRPCError(t, "forged bytes", err, 400, "AUTH_BYTES_INVALID")
	_, err = importOn(dc2, &server.Key{}, ex.ID, nil)
	wantRPCError(t, "no bytes", err, 400, "AUTH_BYTES_INVALID")
	other := newTestDC(t, 2, "another cluster's secret.........")
	_, err = importOn(other, &server.Key{}, ex.ID, ex.Bytes)
	wantRPCError(t, "another cluster", err, 400, "AUTH_BYTES_INVALID")

	// DC 2 has never seen the account: the grant creates it and logs the key in.
	key2 := &server.Key{}
	res, err := importOn(dc2, key2, ex.ID, ex.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	u := res.(*tg.AuthAuthorization).User.(*tg.User)
	if u.ID != acc.ID || !u.Self || !u.Bot || u.FirstName != acc.Name || u.Username != acc.Username || u.AccessHash != acc.AccessKey {
		t.Fatalf("imported user %+v", u)
	}
	if key2.Record().UserID != acc.ID {
		t.Fatal("the importing key is not logged in")
	}
	made, err := dc2.meta.Account(ctx, acc.ID)
	if err != nil || made.Name != acc.Name || !made.Bot || made.Secret != "" {
		t.Fatalf("account on DC 2: %+v, %v (a bot's token secret must not travel)", made, err)
	}
	res, err = invoke(t, dc2.h, key2, &tg.UsersGetUsersRequest{ID: []tg.InputUserClass{&tg.InputUserSelf{}}})
	if err != nil || res.(*tg.UserClassVector).Elems[0].(*tg.User).ID != acc.ID {
		t.Fatalf("users.getUsers(self) on DC 2: %v, %v", res, err)
	}

	// Single use: the same bytes are refused the second time, on any key.
	_, err = importOn(dc2, &server.Key{}, ex.ID, ex.Bytes)
	wantRPCError(t, "replayed bytes", err, 400, "AUTH_BYTES_INVALID")

	// Short-lived: bytes older than exportTTL are refused.
	ex = export()
	*dc2.now = dc2.now.Add(exportTTL)
	_, err = importOn(dc2, &server.Key{}, ex.ID, ex.Bytes)
	wantRPCError(t, "expired bytes", err, 400, "AUTH_BYTES_INVALID")

	// A fresh export works again, and the existing account is kept.
	*dc1.now = *dc2.now
	ex = export()
	if _, err := importOn(dc2, &server.Key{}, ex.ID, ex.Bytes); err != nil {
		t.Fatalf("second import: %v", err)
	}
}

func TestS6_GetConfigListsAllDCs(t *testing.T) {
	dc2 := newTestDC(t, 2, "secret")
	res, err := invoke(t, dc2.h, &server.Key{}, &tg.HelpGetConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := res.(*tg.Config)
	got := map[int]string{}
	for _, o := range cfg.DCOptions {
		got[o.ID] = o.IPAddress + ":" + strconv.Itoa(o.Port)
	}
	if cfg.ThisDC != 2 || len(got) != 2 || got[1] != "127.0.0.1:5001" || got[2] != "127.0.0.1:5002" {
		t.Fatalf("this_dc %d, dc_options %v", cfg.ThisDC, cfg.DCOptions)
	}
}

func TestD5_FileMigrate(t *testing.T) {
	dc2 := newTestDC(t, 2, "secret")
	user := loggedIn(7000001)
	onDC1, onDC3 := randid.InDC(1), randid.InDC(3)
	get := func(loc tg.InputFileLocationClass) error {
		_, err := invoke(t, dc2.h, user, &tg.UploadGetFileRequest{Location: loc, Limit: 4096})
		return err
	}
	hashes := func(loc tg.InputFileLocationClass) error {
		_, err := invoke(t, dc2.h, user, &tg.UploadGetFileHashesRequest{Location: loc})
		return err
	}
	// A well-formed location of a file DC 1 holds: 303 FILE_MIGRATE_1,
	// before anything is looked up (DC 2 has no record of it).
	for _, loc := range []tg.InputFileLocationClass{
		&tg.InputDocumentFileLocation{ID: onDC1, AccessHash: 5, FileReference: []byte{1}},
		&tg.InputPhotoFileLocation{ID: onDC1, AccessHash: 5, FileReference: []byte{1}, ThumbSize: "x"},
		&tg.InputPeerPhotoFileLocation{Peer: &tg.InputPeerSelf{}, PhotoID: onDC1, Big: true},
	} {
		wantRPCError(t, "getFile "+loc.TypeName(), get(loc), 303, "FILE_MIGRATE_1")
		wantRPCError(t, "getFileHashes "+loc.TypeName(), hashes(loc), 303, "FILE_MIGRATE_1")
	}
	// Document thumbnails live with their document.
	wantRPCError(t, "document thumb", get(&tg.InputDocumentFileLocation{ID: onDC1, AccessHash: 5, ThumbSize: "m"}), 303, "FILE_MIGRATE_1")
	// A malformed location is LOCATION_INVALID wherever the file lives.
	wantRPCError(t, "legacy location", get(&tg.InputFileLocation{VolumeID: onDC1}), 400, "LOCATION_INVALID")
	// An id naming no DC of the cluster, or this DC, is looked up here.
	wantRPCError(t, "unknown DC", get(&tg.InputDocumentFileLocation{ID: onDC3, AccessHash: 5}), 400, "FILE_ID_INVALID")
	wantRPCError(t, "unknown file here", get(&tg.InputDocumentFileLocation{ID: randid.InDC(2), AccessHash: 5}), 400, "FILE_ID_INVALID")

	// Files DC 2 stores carry its id, and documents say where they live.
	rec, err := dc2.h.cfg.Engine.StoreBytes(context.Background(), 7000001, "a.bin", []byte("content"))
	if err != nil {
		t.Fatal(err)
	}
	if randid.DC(rec.ID) != 2 {
		t.Fatalf("file id %#x does not name DC 2", rec.ID)
	}
	if dc := dc2.h.fileDC(onDC1); dc != 1 {
		t.Fatalf("fileDC of a DC 1 id = %d", dc)
	}
	if dc := dc2.h.fileDC(onDC3); dc != 2 {
		t.Fatalf("fileDC of an id naming no DC of the cluster = %d, want this DC", dc)
	}
}

// TestD5_MediaIDsCarryTheirDC: documents, their thumbnails, photos and their
// sizes made on DC 2 all carry DC 2 in their ids, say dc_id 2, and are sent
// there from DC 1; their file references, under the cluster secret, are
// valid on every DC of the cluster and nowhere else.
func TestD5_MediaIDsCarryTheirDC(t *testing.T) {
	const secret = "one cluster secret"
	dc1, dc2 := newTestDC(t, 1, secret), newTestDC(t, 2, secret)
	ctx := context.Background()
	acc := store.Account{ID: 7000001, Bot: true, Name: "uploader", AccessKey: 99}
	if err := dc2.meta.PutAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	user := loggedIn(acc.ID)
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	upload := func(id int64) tg.InputFileClass {
		t.Helper()
		data := buf.Bytes()
		parts := 0
		for off := 0; off < len(data); off += 512 << 10 {
			part := data[off:min(off+512<<10, len(data))]
			if _, err := invoke(t, dc2.h, user, &tg.UploadSaveFilePartRequest{FileID: id, FilePart: parts, Bytes: part}); err != nil {
				t.Fatal(err)
			}
			parts++
		}
		return &tg.InputFile{ID: id, Parts: parts, Name: "image.png"}
	}
	uploadMedia := func(m tg.InputMediaClass) tg.MessageMediaClass {
		t.Helper()
		res, err := invoke(t, dc2.h, user, &tg.MessagesUploadMediaRequest{Peer: &tg.InputPeerSelf{}, Media: m})
		if err != nil {
			t.Fatal(err)
		}
		return res.(tg.MessageMediaClass)
	}
	doc := uploadMedia(&tg.InputMediaUploadedDocument{File: upload(1), MimeType: "image/png"}).(*tg.MessageMediaDocument).Document.(*tg.Document)
	photo := uploadMedia(&tg.InputMediaUploadedPhoto{File: upload(2)}).(*tg.MessageMediaPhoto).Photo.(*tg.Photo)
	stored, err := dc2.meta.Document(ctx, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Thumbs) == 0 {
		t.Fatal("an image document got no thumbnail")
	}
	ids := map[string]int64{"document": doc.ID, "document file": stored.File, "photo": photo.ID}
	for _, th := range stored.Thumbs {
		ids["thumbnail "+th.Type] = th.File
	}
	p, err := dc2.meta.Photo(ctx, photo.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Sizes {
		ids["photo size "+s.Type] = s.File
	}
	for what, id := range ids {
		if randid.DC(id) != 2 {
			t.Errorf("%s id %#x does not name DC 2", what, id)
		}
	}
	if doc.DCID != 2 || photo.DCID != 2 {
		t.Errorf("dc_id of the document %d, of the photo %d; want 2", doc.DCID, photo.DCID)
	}
	thumb := &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference, ThumbSize: stored.Thumbs[0].Type}
	size := &tg.InputPhotoFileLocation{ID: photo.ID, AccessHash: photo.AccessHash, FileReference: photo.FileReference, ThumbSize: p.Sizes[0].Type}
	for _, loc := range []tg.InputFileLocationClass{thumb, size} {
		_, err := invoke(t, dc1.h, user, &tg.UploadGetFileRequest{Location: loc, Limit: 4096})
		wantRPCError(t, "getFile on DC 1 of "+loc.TypeName(), err, 303, "FILE_MIGRATE_2")
		if _, err := invoke(t, dc2.h, user, &tg.UploadGetFileRequest{Location: loc, Limit: 4096}); err != nil {
			t.Errorf("getFile on DC 2 of %s: %v", loc.TypeName(), err)
		}
	}
	// References are checked alike on every DC of the cluster.
	ref := files.FileRef{ID: doc.ID, AccessHash: doc.AccessHash}
	for _, d := range []*testDC{dc1, dc2} {
		if err := d.h.media.CheckRef(ctx, ref, doc.FileReference); err != nil {
			t.Errorf("DC %d refuses a reference DC 2 issued: %v", d.h.cfg.DC, err)
		}
	}
	other := newTestDC(t, 1, "another cluster's secret")
	if err := other.h.media.CheckRef(ctx, ref, doc.FileReference); err == nil {
		t.Error("another cluster accepts the reference")
	}
}
