package server

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/layer"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/memstore"
)

// pooledFile is an upload.file answer holding pooled memory.
type pooledFile struct {
	tg.UploadFile
	released atomic.Int32
}

func (p *pooledFile) Release() { p.released.Add(1) }

// TestS5_LayerRememberedPerKeyAcrossSessions: a client declares layer 198
// once; its calls on another session of the same key, without
// invokeWithLayer (GramJS's second connection), are still translated both
// ways, and the layer is stored with the key.
func TestS5_LayerRememberedPerKeyAcrossSessions(t *testing.T) {
	user := &tg.User{ID: 42, AccessHash: 1, FirstName: "bot", Self: true, Bot: true, BotInfoVersion: 1}
	user.SetFlags()
	file := &pooledFile{UploadFile: tg.UploadFile{Type: &tg.StorageFilePartial{}, Mtime: 1, Bytes: []byte("chunk")}}
	var handled sync.Map // type id -> body the handler got
	ts := newTestSession(t, HandlerFunc(func(ctx context.Context, r *Request) (bin.Encoder, error) {
		b := &bin.Buffer{Buf: r.Body.Buf}
		// The server took the wrappers off and says what they were.
		for {
			id, _ := b.PeekID()
			if id == tg.HelpGetConfigRequestTypeID {
				if r.Invoke.Init == nil || r.Invoke.Init.APIID != 1 {
					return nil, &RPCError{Code: 400, Message: "NO_INIT_CONNECTION"}
				}
				handled.Store(uint32(tg.InvokeWithLayerRequestTypeID), r.Invoke.Layer)
				return &tg.Config{ThisDC: 2, DCOptions: []tg.DCOption{{ID: 2, IPAddress: "127.0.0.1", Port: 1}}}, nil
			}
			handled.Store(id, r.Body.Buf)
			switch id {
			case tg.UsersGetUsersRequestTypeID:
				var req tg.UsersGetUsersRequest
				if err := req.Decode(b); err != nil {
					return nil, err
				}
				return &tg.UserClassVector{Elems: []tg.UserClass{user}}, nil
			case tg.UploadGetFileRequestTypeID:
				return file, nil
			}
			return nil, &RPCError{Code: 400, Message: "METHOD_INVALID"}
		}
	}))
	keys := memstore.New()
	ts.srv.cfg.Keys = keys
	s198 := layer.Default().Schema(198)
	ctx := context.Background()
	msgID := time.Now().Unix() << 32
	call := func(sess *Session, q *layer.Object) []byte {
		t.Helper()
		body, err := s198.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		msgID += 4
		go ts.srv.process(ctx, sess.conn, sess, msgID, 1, body, 0, nil)
		return ts.nextAnswer(t).Result
	}

	init := s198.MustBuild("invokeWithLayer", map[string]any{"layer": 198, "query": s198.MustBuild("initConnection", map[string]any{
		"api_id": 1, "device_model": "d", "system_version": "s", "app_version": "a", "system_lang_code": "en",
		"lang_pack": "", "lang_code": "en", "query": s198.MustBuild("help.getConfig", nil)})})
	cfg, _, err := s198.Decode(call(ts.sess, init), &layer.TypeRef{Kind: layer.KindBoxed, Name: "Config"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.(*layer.Object).Field("this_dc").(int32) != 2 {
		t.Fatal("config")
	}
	if l, _ := handled.Load(uint32(tg.InvokeWithLayerRequestTypeID)); l != 198 {
		t.Fatalf("the handler saw layer %v", l)
	}
	if rec, err := keys.AuthKey(ctx, ts.sess.key.Record().ID); err != nil || rec.Layer != 198 {
		t.Fatalf("stored key %+v, %v", rec.Layer, err)
	}

	// A second session on the same key, no invokeWithLayer.
	second, _ := ts.srv.session(ts.sess.key, 2, ts.sess.conn)
	getUsers := s198.MustBuild("users.getUsers", map[string]any{"id": []any{s198.MustBuild("inputUserSelf", nil)}})
	raw := call(second, getUsers)
	users, _, err := s198.Decode(raw, s198.Function("users.getUsers").Result)
	if err != nil {
		t.Fatalf("layer 198 cannot decode the answer: %v", err)
	}
	u := users.([]any)[0].(*layer.Object)
	if u.C.ID == tg.UserTypeID || u.C.ID != s198.Constructor("user").ID || u.Field("id").(int64) != 42 ||
		string(u.Field("first_name").([]byte)) != "bot" || u.Field("bot") != true {
		t.Fatalf("user in layer 198: %08x %v", u.C.ID, u.Fields)
	}

	// upload.file is the same in both layers: sent as it is, released once.
	loc := s198.MustBuild("inputDocumentFileLocation", map[string]any{"id": 1, "access_hash": 2, "file_reference": "r", "thumb_size": ""})
	raw = call(second, s198.MustBuild("upload.getFile", map[string]any{"location": loc, "limit": 4096}))
	var got tg.UploadFile
	if err := got.Decode(&bin.Buffer{Buf: raw}); err != nil || string(got.Bytes) != "chunk" {
		t.Fatalf("upload.file %+v, %v", got, err)
	}
	// Released once the send returns: the pipe's writer waits for reads.
	go io.Copy(io.Discard, ts.client)
	for deadline := time.Now().Add(10 * time.Second); file.released.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := file.released.Load(); n != 1 {
		t.Fatalf("released %d times", n)
	}
}

// TestS5_ServerLayerPaysNothing: a client of the server's layer gets no
// bridge, and a passing answer is the handler's own object.
func TestS5_ServerLayerPaysNothing(t *testing.T) {
	s := New(Config{})
	k := &Key{}
	for _, l := range []int{0, tg.Layer, tg.Layer + 10} {
		k.Update(func(r *store.AuthKey) { r.Layer = l })
		if cl := s.layerOf(k, 0); cl.bridge != nil {
			t.Errorf("layer %d is translated", l)
		}
	}
	k.Update(func(r *store.AuthKey) { r.Layer = 198 })
	cl := s.layerOf(k, 0)
	if cl.bridge == nil {
		t.Fatal("layer 198 is not translated")
	}
	var req bin.Buffer
	(&tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 1}, Limit: 4096}).Encode(&req)
	_, call, err := cl.bridge.Request(req.Buf)
	if err != nil {
		t.Fatal(err)
	}
	file := &pooledFile{}
	res, err := translateAnswer(cl.bridge, call, file)
	if err != nil || res != bin.Encoder(file) || file.released.Load() != 0 {
		t.Fatalf("upload.file was translated: %T %v", res, err)
	}
}
