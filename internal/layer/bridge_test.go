package layer

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// answers are what filedc's handlers send (internal/rpc), with every field
// they fill, answering the named call.
func answers() []struct {
	call string
	v    bin.Encoder
} {
	user := &tg.User{ID: 42, AccessHash: -7, FirstName: "bot", Username: "filedc_bot", Self: true, Bot: true,
		BotInfoVersion: 1, Premium: true, Phone: "9996621234",
		Photo: &tg.UserProfilePhoto{PhotoID: 9, StrippedThumb: []byte{1, 2, 3}, DCID: 2}}
	user.SetFlags()
	doc := &tg.Document{ID: 1, AccessHash: 2, FileReference: []byte{3, 4}, Date: 1700000000, MimeType: "video/mp4",
		Size: 30 << 20, DCID: 2, Attributes: []tg.DocumentAttributeClass{
			&tg.DocumentAttributeFilename{FileName: "a.mp4"},
			&tg.DocumentAttributeVideo{SupportsStreaming: true, Duration: 1.5, W: 640, H: 480},
			&tg.DocumentAttributeImageSize{W: 640, H: 480},
			&tg.DocumentAttributeAudio{Duration: 3, Title: "t"},
		}}
	photo := &tg.Photo{ID: 5, AccessHash: 6, FileReference: []byte{7}, Date: 1700000000, DCID: 2,
		Sizes: []tg.PhotoSizeClass{&tg.PhotoStrippedSize{Type: "i", Bytes: []byte{1, 40, 40}},
			&tg.PhotoSize{Type: "m", W: 320, H: 240, Size: 9000}, &tg.PhotoSize{Type: "x", W: 800, H: 600, Size: 40000}}}
	msg := func(id int, media tg.MessageMediaClass, grouped int64) *tg.Message {
		m := &tg.Message{ID: id, Out: true, PeerID: &tg.PeerUser{UserID: 42}, FromID: &tg.PeerUser{UserID: 42},
			Date: 1700000000, Message: "caption", Media: media, GroupedID: grouped}
		m.SetFlags()
		return m
	}
	docMedia := &tg.MessageMediaDocument{Document: doc}
	docMedia.SetFlags()
	photoMedia := &tg.MessageMediaPhoto{Photo: photo}
	photoMedia.SetFlags()
	updates := &tg.Updates{Date: 1700000000, Users: []tg.UserClass{user}, Updates: []tg.UpdateClass{
		&tg.UpdateMessageID{ID: 1, RandomID: 99},
		&tg.UpdateMessageID{ID: 2, RandomID: 100},
		&tg.UpdateNewMessage{Message: msg(1, docMedia, 7), Pts: 1, PtsCount: 1},
		&tg.UpdateNewMessage{Message: msg(2, photoMedia, 7), Pts: 2, PtsCount: 1},
	}}
	auth := &tg.AuthAuthorization{User: user}
	auth.SetFlags()
	cfg := &tg.Config{Date: 1, Expires: 2, ThisDC: 2, DCOptions: []tg.DCOption{{ID: 2, IPAddress: "127.0.0.1", Port: 4430, Static: true}},
		DCTxtDomainName: "localhost", ChatSizeMax: 200, MegagroupSizeMax: 200000, MeURLPrefix: "https://t.me/",
		CaptionLengthMax: 1024, MessageLengthMax: 4096, WebfileDCID: 2}
	cfg.SetFlags()
	return []struct {
		call string
		v    bin.Encoder
	}{
		{"auth.importBotAuthorization", auth},
		{"help.getConfig", cfg},
		{"help.getNearestDc", &tg.NearestDC{Country: "XX", ThisDC: 2, NearestDC: 2}},
		{"updates.getState", &tg.UpdatesState{Pts: 1, Date: 1700000000}},
		{"users.getUsers", &tg.UserClassVector{Elems: []tg.UserClass{user, &tg.UserEmpty{ID: 3}}}},
		{"messages.uploadMedia", docMedia},
		{"messages.sendMedia", updates},
		{"messages.getMessages", &tg.MessagesMessages{Messages: []tg.MessageClass{msg(1, docMedia, 0), msg(3, nil, 0)}, Users: []tg.UserClass{user}}},
		{"messages.getHistory", &tg.MessagesMessages{Messages: []tg.MessageClass{msg(2, photoMedia, 0)}, Users: []tg.UserClass{user}}},
		{"messages.getDocumentByHash", doc},
		{"messages.getDocumentByHash", &tg.DocumentEmpty{}},
		{"photos.uploadProfilePhoto", &tg.PhotosPhoto{Photo: photo, Users: []tg.UserClass{user}}},
		{"photos.getUserPhotos", &tg.PhotosPhotos{Photos: []tg.PhotoClass{photo}, Users: []tg.UserClass{user}}},
		{"photos.deletePhotos", &tg.LongVector{Elems: []int64{5, 6}}},
		{"upload.getFile", &tg.UploadFile{Type: &tg.StorageFilePartial{}, Mtime: 1, Bytes: bytes.Repeat([]byte{9}, 1000)}},
		{"upload.getFileHashes", &tg.FileHashVector{Elems: []tg.FileHash{{Offset: 0, Limit: 131072, Hash: make([]byte, 32)}}}},
		{"upload.saveFilePart", &tg.BoolTrue{}},
	}
}

func encode(t testing.TB, v bin.Encoder) []byte {
	t.Helper()
	var b bin.Buffer
	if err := v.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Buf
}

// oldLayers are the layers of the schema files other than the server's:
// every translation test runs for each.
func oldLayers() []int {
	return slices.DeleteFunc(Default().Layers(), func(l int) bool { return l == ServerLayer })
}

// callOf returns the call of the server's layer, as a translated request
// would; its result types are the answer's in each layer.
func callOf(t *testing.T, br *Bridge, name string) *Call {
	t.Helper()
	s, c := br.Server.Function(name), br.Client.Function(name)
	if s == nil || c == nil {
		t.Fatalf("%s missing in layer %d or %d", name, br.Server.Layer, br.Client.Layer)
	}
	return &Call{Name: name, ServerResult: s.Result, ClientResult: c.Result}
}

// TestS5_GenericCodecMatchesTg: what gotd's generated code encodes, the
// generic codec decodes with the same schema and encodes to the same bytes.
func TestS5_GenericCodecMatchesTg(t *testing.T) {
	s := Default().Schema(ServerLayer)
	for _, a := range answers() {
		raw := encode(t, a.v)
		res := s.Function(a.call).Result
		v, rest, err := s.Decode(raw, res)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: %v (%d bytes left)", a.call, err, len(rest))
		}
		var b bin.Buffer
		if err := s.Encode(&b, v, res); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Buf, raw) {
			t.Errorf("%s: re-encoded bytes differ", a.call)
		}
	}
}

// TestS5_AnswersTranslateToEveryLayer: every answer the server sends decodes
// with each supported layer's schema after translation, and every field the
// client's constructor shares with the server's keeps its value: nothing is
// lost that the client's layer can express.
func TestS5_AnswersTranslateToEveryLayer(t *testing.T) {
	r := Default()
	for _, l := range oldLayers() {
		br := r.For(l)
		for _, a := range answers() {
			call := callOf(t, br, a.call)
			raw := encode(t, a.v)
			var out bin.Buffer
			if err := br.Answer(call, raw, &out); err != nil {
				t.Fatalf("layer %d, %s: %v", l, a.call, err)
			}
			got, rest, err := br.Client.Decode(out.Buf, call.ClientResult)
			if err != nil || len(rest) != 0 {
				t.Fatalf("layer %d, %s: the client's schema cannot decode the answer: %v", l, a.call, err)
			}
			want, _, _ := br.Server.Decode(raw, call.ServerResult)
			sameValues(t, a.call, want, got)
		}
	}
}

// sameValues checks that every field of the client's objects holds the
// server's value, where both constructors have the field.
func sameValues(t *testing.T, path string, server, client any) {
	t.Helper()
	switch s := server.(type) {
	case *Object:
		c, ok := client.(*Object)
		if !ok || c.C.Name != s.C.Name {
			t.Errorf("%s: %v became %v", path, s.C.Name, client)
			return
		}
		for i, f := range c.C.Fields {
			j := fieldIndex(s.C, f.Name)
			if j < 0 || f.Type.Kind == KindFlags {
				// A field the server lacks is left out, or holds its zero
				// value when the client's layer requires it.
				if c.Fields[i] != nil && f.Type.Kind != KindFlags && present(c.Fields[i]) && !(f.Flags < 0 && isZero(c.Fields[i])) {
					t.Errorf("%s.%s: set though the server has no such field", path, f.Name)
				}
				continue
			}
			sameValues(t, path+"."+f.Name, s.Fields[j], c.Fields[i])
		}
	case []any:
		c, ok := client.([]any)
		if !ok || len(c) != len(s) {
			t.Errorf("%s: vector of %d became %v", path, len(s), client)
			return
		}
		for i := range s {
			sameValues(t, path, s[i], c[i])
		}
	case Double:
		// A double the client's layer has as an integer is rounded.
		f := math.Round(math.Float64frombits(uint64(s)))
		if c, ok := client.(Double); ok {
			if c != s {
				t.Errorf("%s: %v became %v", path, s, c)
			}
		} else if c, ok := client.(int32); !ok || float64(c) != f {
			t.Errorf("%s: %v became %v", path, math.Float64frombits(uint64(s)), client)
		}
	default:
		if !reflect.DeepEqual(server, client) {
			t.Errorf("%s: %v became %v", path, server, client)
		}
	}
}

// isZero reports whether v is the zero value of a number, string or vector.
func isZero(v any) bool {
	switch x := v.(type) {
	case int32:
		return x == 0
	case int64:
		return x == 0
	case Double:
		return x == 0
	case []byte:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// TestS5_ChangedConstructors: the constructors that differ between the
// layers for what the server sends get the client's ids, and the fields the
// client's layer lacks are gone.
func TestS5_ChangedConstructors(t *testing.T) {
	r := Default()
	for _, l := range oldLayers() {
		br := r.For(l)
		for _, a := range answers() {
			call := callOf(t, br, a.call)
			var out bin.Buffer
			if err := br.Answer(call, encode(t, a.v), &out); err != nil {
				t.Fatal(err)
			}
			got, _, err := br.Client.Decode(out.Buf, call.ClientResult)
			if err != nil {
				t.Fatal(err)
			}
			Walk(got, func(o *Object) {
				if c := br.Client.Constructor(o.C.Name); c != o.C && br.Client.Function(o.C.Name) != o.C {
					t.Errorf("layer %d: %s is not the client's constructor", l, o.C.Name)
				}
				if s := br.Server.Constructor(o.C.Name); s != nil && s.ID != o.C.ID && br.PassesDown(o.C.ID) {
					t.Errorf("layer %d: %s changed but passes", l, o.C.Name)
				}
			})
		}
		// What the issue names: user and message differ in both old
		// layers, and translate.
		for _, name := range []string{"user", "message", "messages.messages", "messages.messagesSlice"} {
			s, c := br.Server.Constructor(name), br.Client.Constructor(name)
			if br.PassesDown(s.ID) {
				t.Errorf("layer %d: %s passes", l, name)
			}
			if name == "user" || l == 198 {
				if s.ID == c.ID {
					t.Errorf("layer %d: %s has the server's id", l, name)
				}
			}
		}
	}
	// The file path passes untouched in every layer.
	for _, l := range oldLayers() {
		br := r.For(l)
		for _, name := range []string{"upload.saveFilePart", "upload.saveBigFilePart", "upload.getFile", "upload.getFileHashes"} {
			if !br.PassesUp(br.Client.Function(name).ID) {
				t.Errorf("layer %d: %s is translated", l, name)
			}
		}
		for _, name := range []string{"upload.file", "fileHash", "boolTrue", "config", "updates.state"} {
			if name == "config" && br.Client.Constructor(name).ID != br.Server.Constructor(name).ID {
				continue // layer 144's config has four limits more
			}
			if !br.PassesDown(br.Server.Constructor(name).ID) {
				t.Errorf("layer %d: %s is translated", l, name)
			}
		}
	}
}

// TestS5_PassThroughCopiesNothing: a request identical in both layers comes
// back as the same slice, and a passing answer is appended as it is.
func TestS5_PassThroughCopiesNothing(t *testing.T) {
	br := Default().For(198)
	body := encode(t, &tg.UploadSaveFilePartRequest{FileID: 1, FilePart: 2, Bytes: make([]byte, 512<<10)})
	out, call, err := br.Request(body)
	if err != nil {
		t.Fatal(err)
	}
	if &out[0] != &body[0] || call.Name != "upload.saveFilePart" {
		t.Fatal("upload.saveFilePart was copied")
	}
	getFile := encode(t, &tg.UploadGetFileRequest{Location: &tg.InputDocumentFileLocation{ID: 1}, Limit: 512 << 10})
	_, call, err = br.Request(getFile)
	if err != nil {
		t.Fatal(err)
	}
	if !br.PassAnswer(call, tg.UploadFileTypeID) || !br.PassAnswer(call, tg.UploadFileCDNRedirectTypeID) {
		t.Fatal("upload.file and upload.fileCdnRedirect should pass")
	}
	if br.PassAnswer(call, tg.MessagesMessagesTypeID) {
		t.Fatal("messages.messages passes")
	}
}

// TestS5_RequestsTranslateToTheServerLayer: calls encoded in an old layer
// (wrappers included) decode with gotd's tg after translation, holding the
// client's values.
func TestS5_RequestsTranslateToTheServerLayer(t *testing.T) {
	r := Default()
	for _, l := range oldLayers() {
		br := r.For(l)
		c := br.Client
		// A video's duration: int seconds in layer 144, a double later.
		var duration any = Double(math.Float64bits(1.5))
		wantDuration := 1.5
		if d := c.Constructor("documentAttributeVideo"); d.Fields[fieldIndex(d, "duration")].Type.Kind == KindInt {
			duration, wantDuration = int32(2), 2
		}
		doc := c.MustBuild("inputMediaUploadedDocument", map[string]any{
			"file":      c.MustBuild("inputFileBig", map[string]any{"id": 11, "parts": 60, "name": "big.bin"}),
			"mime_type": "application/octet-stream",
			"attributes": []any{c.MustBuild("documentAttributeFilename", map[string]any{"file_name": "big.bin"}),
				c.MustBuild("documentAttributeVideo", map[string]any{"supports_streaming": true, "w": 640, "h": 480, "duration": duration})},
			"force_file": true,
		})
		send := c.MustBuild("messages.sendMedia", map[string]any{
			"peer": c.MustBuild("inputPeerSelf", nil), "media": doc, "message": "hello", "random_id": 77, "silent": true,
		})
		init := c.MustBuild("invokeWithLayer", map[string]any{"layer": l, "query": c.MustBuild("initConnection", map[string]any{
			"api_id": 1, "device_model": "d", "system_version": "s", "app_version": "a", "system_lang_code": "en",
			"lang_pack": "", "lang_code": "en", "query": send})})
		raw, err := c.Marshal(init)
		if err != nil {
			t.Fatal(err)
		}
		out, call, err := br.Request(raw)
		if err != nil {
			t.Fatalf("layer %d: %v", l, err)
		}
		if call.Name != "messages.sendMedia" || call.ServerResult.Name != "Updates" {
			t.Fatalf("layer %d: call %+v", l, call)
		}
		var wl tg.InvokeWithLayerRequest
		var ic tg.InitConnectionRequest
		var req tg.MessagesSendMediaRequest
		wl.Query, ic.Query = &ic, &req
		if err := wl.Decode(&bin.Buffer{Buf: out}); err != nil {
			t.Fatalf("layer %d: tg cannot decode the translation: %v", l, err)
		}
		media, ok := req.Media.(*tg.InputMediaUploadedDocument)
		if wl.Layer != l || ic.LangCode != "en" || !ok || req.Message != "hello" || req.RandomID != 77 || !req.Silent {
			t.Fatalf("layer %d: %+v %+v", l, req, req.Media)
		}
		big, ok := media.File.(*tg.InputFileBig)
		video, vok := media.Attributes[1].(*tg.DocumentAttributeVideo)
		if !ok || big.ID != 11 || big.Parts != 60 || !media.ForceFile || len(media.Attributes) != 2 || !vok ||
			!video.SupportsStreaming || video.Duration != wantDuration || video.W != 640 {
			t.Fatalf("layer %d: media %+v", l, media)
		}

		// An album: inputSingleMedia with inputMediaUploadedPhoto.
		album := c.MustBuild("messages.sendMultiMedia", map[string]any{
			"peer": c.MustBuild("inputPeerSelf", nil),
			"multi_media": []any{c.MustBuild("inputSingleMedia", map[string]any{
				"media":     c.MustBuild("inputMediaUploadedPhoto", map[string]any{"file": c.MustBuild("inputFile", map[string]any{"id": 5, "parts": 1, "name": "p.jpg", "md5_checksum": ""})}),
				"random_id": 8, "message": "one"})},
		})
		raw, err = c.Marshal(album)
		if err != nil {
			t.Fatal(err)
		}
		if out, _, err = br.Request(raw); err != nil {
			t.Fatal(err)
		}
		var multi tg.MessagesSendMultiMediaRequest
		if err := multi.Decode(&bin.Buffer{Buf: out}); err != nil {
			t.Fatalf("layer %d: %v", l, err)
		}
		if len(multi.MultiMedia) != 1 || multi.MultiMedia[0].RandomID != 8 || multi.MultiMedia[0].Message != "one" {
			t.Fatalf("layer %d: %+v", l, multi)
		}
	}
}

// knownChanges are fields that look renamed between layers but changed
// meaning (months became days; a permille became a rarity object next to a
// new id) or were renamed in constructors filedc never sends or receives
// (star transactions). Translating them by name is right for the former;
// for the latter a client of the old layer would miss a field it has.
var knownChanges = map[string]bool{
	"198:messageActionGiftCode.months":              true,
	"198:messageActionGiftPremium.months":           true,
	"198:payments.checkedGiftCode.months":           true,
	"198:starGiftAttributeBackdrop.rarity_permille": true,
	"198:starsTransaction.stars":                    true,
	"144:messageActionGiftPremium.months":           true,
	"144:messages.translateText.from_lang":          true, // the source language went; tone is new
}

// TestS5_DroppedFieldsAreNotRenames: when a constructor lost a field in one
// layer and gained one of the same type at the same flag, that may be a
// rename, and dropping by name would lose what the other layer can express.
// There must be none but the known ones above.
func TestS5_DroppedFieldsAreNotRenames(t *testing.T) {
	r := Default()
	server := r.Schema(ServerLayer)
	for _, l := range oldLayers() {
		client := r.Schema(l)
		for _, sc := range server.All() {
			cc := client.ctors[sc.Name]
			if sc.Function {
				cc = client.funcs[sc.Name]
			}
			if cc == nil || cc.ID == sc.ID {
				continue
			}
			for _, f := range cc.Fields {
				if fieldIndex(sc, f.Name) >= 0 || f.Type.Kind == KindFlags {
					continue
				}
				for _, g := range sc.Fields {
					if fieldIndex(cc, g.Name) >= 0 || g.Type.String() != f.Type.String() || g.Type.Kind == KindTrue {
						continue
					}
					known := knownChanges[fmt.Sprintf("%d:%s.%s", l, sc.Name, f.Name)]
					if flagName(cc, f) == flagName(sc, g) && f.Bit == g.Bit && !known {
						t.Errorf("layer %d: %s.%s looks renamed to %s", l, sc.Name, f.Name, g.Name)
					}
				}
			}
		}
	}
}

func flagName(c *Constructor, f Field) string {
	if f.Flags < 0 {
		return ""
	}
	return c.Fields[f.Flags].Name
}

// TestS5_UntranslatableValues: a constructor the client's layer lacks
// leaves out the optional field or vector element holding it; in a required
// field it fails the answer rather than sending something wrong.
func TestS5_UntranslatableValues(t *testing.T) {
	br := Default().For(198)
	// messageMediaToDo does not exist in layer 198.
	paid := &tg.MessageMediaToDo{Todo: tg.TodoList{Title: tg.TextWithEntities{Text: "t"}}}
	m := &tg.Message{ID: 1, PeerID: &tg.PeerUser{UserID: 1}, Message: "x", Media: paid}
	m.SetFlags()
	res := &tg.MessagesMessages{Messages: []tg.MessageClass{m}}
	var out bin.Buffer
	if err := br.Answer(callOf(t, br, "messages.getMessages"), encode(t, res), &out); err != nil {
		t.Fatal(err)
	}
	v, _, err := br.Client.Decode(out.Buf, br.Client.Function("messages.getMessages").Result)
	if err != nil {
		t.Fatal(err)
	}
	msg := v.(*Object).Field("messages").([]any)[0].(*Object)
	if msg.Field("media") != nil || string(msg.Field("message").([]byte)) != "x" {
		t.Fatalf("message %+v", msg.Fields)
	}
	// uploadMedia answers MessageMedia itself: nothing to leave it out of.
	out.Reset()
	err = br.Answer(callOf(t, br, "messages.uploadMedia"), encode(t, paid), &out)
	if !errors.Is(err, ErrUntranslatable) {
		t.Fatalf("required field: %v", err)
	}
}

// TestS5_NumbersThatChangedType: documentAttributeVideo.duration is int
// seconds in layer 144 and a double in the server's layer. Answers round it
// to the nearest second, requests carry it exactly; a double no integer
// holds leaves the attribute out, as any value the client's layer cannot
// express.
func TestS5_NumbersThatChangedType(t *testing.T) {
	br := Default().For(144)
	c := br.Client
	if d := c.Constructor("documentAttributeVideo"); d.Fields[fieldIndex(d, "duration")].Type.Kind != KindInt {
		t.Fatal("layer 144 has no int duration")
	}
	call := callOf(t, br, "messages.getDocumentByHash")
	for _, tc := range []struct {
		server float64
		want   int32 // -1: left out
	}{{1.5, 2}, {2.4, 2}, {0.4, 0}, {3600, 3600}, {math.NaN(), -1}, {math.Inf(1), -1}, {1e12, -1}} {
		doc := &tg.Document{ID: 1, AccessHash: 2, MimeType: "video/mp4", Size: 1, DCID: 2, Attributes: []tg.DocumentAttributeClass{
			&tg.DocumentAttributeVideo{Duration: tc.server, W: 640, H: 480, Nosound: true},
			&tg.DocumentAttributeFilename{FileName: "a.mp4"},
		}}
		var out bin.Buffer
		if err := br.Answer(call, encode(t, doc), &out); err != nil {
			t.Fatalf("%v: %v", tc.server, err)
		}
		v, _, err := c.Decode(out.Buf, call.ClientResult)
		if err != nil {
			t.Fatal(err)
		}
		attrs := v.(*Object).Field("attributes").([]any)
		if tc.want < 0 {
			if len(attrs) != 1 || attrs[0].(*Object).C.Name != "documentAttributeFilename" {
				t.Errorf("duration %v: attributes %v", tc.server, attrs)
			}
			continue
		}
		video := attrs[0].(*Object)
		if len(attrs) != 2 || video.C.Name != "documentAttributeVideo" || video.Field("duration") != tc.want || video.Field("w") != int32(640) {
			t.Errorf("duration %v: %v %v, want %d", tc.server, video.C.Name, video.Fields, tc.want)
		}
	}

	// A layer 144 request: the int becomes the same double.
	send := c.MustBuild("messages.uploadMedia", map[string]any{"peer": c.MustBuild("inputPeerSelf", nil),
		"media": c.MustBuild("inputMediaUploadedDocument", map[string]any{
			"file":      c.MustBuild("inputFile", map[string]any{"id": 1, "parts": 1, "name": "v.mp4", "md5_checksum": ""}),
			"mime_type": "video/mp4",
			"attributes": []any{c.MustBuild("documentAttributeVideo", map[string]any{
				"supports_streaming": true, "duration": int32(7), "w": 320, "h": 240})},
		})})
	raw, err := c.Marshal(send)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := br.Request(raw)
	if err != nil {
		t.Fatal(err)
	}
	var req tg.MessagesUploadMediaRequest
	if err := req.Decode(&bin.Buffer{Buf: body}); err != nil {
		t.Fatal(err)
	}
	attrs := req.Media.(*tg.InputMediaUploadedDocument).Attributes
	if len(attrs) != 1 {
		t.Fatalf("attributes %v", attrs)
	}
	if v, ok := attrs[0].(*tg.DocumentAttributeVideo); !ok || v.Duration != 7 || v.W != 320 || !v.SupportsStreaming {
		t.Fatalf("video attribute %+v", attrs[0])
	}
}

// TestS5_ResolveLayers: an unknown layer is served in the nearest known
// layer not above it; older than all of them, in the oldest.
func TestS5_ResolveLayers(t *testing.T) {
	r := Default()
	for declared, want := range map[int]int{0: ServerLayer, 198: 198, 200: 198, 226: 198, 227: 227, 228: 227,
		229: 229, 300: 229, 150: 144, 144: 144, 143: 144} {
		if got := r.Resolve(declared); got != want {
			t.Errorf("layer %d served as %d, want %d", declared, got, want)
		}
	}
	if r.For(ServerLayer) != nil || r.For(0) != nil || r.For(500) != nil {
		t.Error("the server's layer is translated")
	}
	if r.For(227) == nil || r.For(227).Client.Layer != 227 {
		t.Error("no bridge for 227")
	}
}

// TestS5_AddingALayerIsAddingAFile: a registry is what its files are.
func TestS5_AddingALayerIsAddingAFile(t *testing.T) {
	files := map[string][]byte{}
	for _, name := range []string{"198", "227", "229"} {
		data, err := schemaFiles.ReadFile("schema/" + name + ".tl")
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	// A layer 228 client, here with 227's constructors.
	files["228"] = []byte(strings.Replace(string(files["227"]), "// LAYER 227", "// LAYER 228", 1))
	r, err := NewRegistry(files)
	if err != nil {
		t.Fatal(err)
	}
	if br := r.For(228); br == nil || br.Client.Layer != 228 || r.Resolve(228) != 228 {
		t.Fatal("layer 228 not served in its own schema")
	}
	delete(files, "229")
	if _, err := NewRegistry(files); err == nil {
		t.Fatal("a registry without the server's layer")
	}
}
