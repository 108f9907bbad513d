package layer

import (
	"bytes"
	"errors"
	"math"
	"os"
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
		{"auth.bindTempAuthKey", &tg.BoolTrue{}},
		{"auth.sendCode", &tg.AuthSentCode{Type: &tg.AuthSentCodeTypeApp{Length: 5}, PhoneCodeHash: "h"}},
		{"auth.signIn", &tg.AuthAuthorizationSignUpRequired{}},
		{"auth.signUp", auth},
		{"auth.exportAuthorization", &tg.AuthExportedAuthorization{ID: 42, Bytes: []byte{1, 2}}},
		{"auth.importAuthorization", auth},
		{"account.initTakeoutSession", &tg.AccountTakeout{ID: 77}},
		{"account.finishTakeoutSession", &tg.BoolTrue{}},
		{"messages.sendMultiMedia", updates},
		{"messages.deleteMessages", &tg.MessagesAffectedMessages{Pts: 3, PtsCount: 1}},
		{"photos.updateProfilePhoto", &tg.PhotosPhoto{Photo: photo, Users: []tg.UserClass{user}}},
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

// oldLayers are the built-in layers other than the server's.
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
				// A field only the client's layer requires holds its zero.
				if f.Flags >= 0 && c.Fields[i] != nil && present(c.Fields[i]) {
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
	default:
		if !reflect.DeepEqual(number(server), number(client)) {
			t.Errorf("%s: %v became %v", path, server, client)
		}
	}
}

// number makes int, long and double values comparable across layers where
// a field changed between them (sizes became long, durations double; a
// double becomes whole seconds rounded up).
func number(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case Double:
		return int64(math.Round(math.Float64frombits(uint64(x))))
	}
	return v
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
		// A constructor whose id changed never passes.
		for _, name := range []string{"user", "message", "messages.messages", "messages.messagesSlice", "config", "document"} {
			s, c := br.Server.Constructor(name), br.Client.Constructor(name)
			if c != nil && s.ID != c.ID && br.PassesDown(s.ID) {
				t.Errorf("layer %d: %s changed but passes", l, name)
			}
		}
	}
	// The file path passes untouched in every layer that has it unchanged
	// (upload.getFile's offset became long in layer 133's neighbours).
	passes := 0
	for _, l := range oldLayers() {
		br := r.For(l)
		for _, name := range []string{"upload.saveFilePart", "upload.saveBigFilePart", "upload.getFile", "upload.getFileHashes"} {
			c, s := br.Client.Function(name), br.Server.Function(name)
			if sameShape(c, s) && !br.PassesUp(c.ID) {
				t.Errorf("layer %d: %s is translated", l, name)
			}
		}
		for _, name := range []string{"upload.file", "fileHash", "boolTrue", "updates.state"} {
			c, s := br.Client.Constructor(name), br.Server.Constructor(name)
			if sameShape(c, s) && !br.PassesDown(s.ID) {
				t.Errorf("layer %d: %s is translated", l, name)
			}
		}
		if br.PassesUp(br.Client.Function("upload.saveFilePart").ID) && br.PassesDown(br.Server.Constructor("upload.file").ID) {
			passes++
		}
	}
	if passes < len(oldLayers())*3/4 {
		t.Errorf("the file path passes in only %d of %d layers", passes, len(oldLayers()))
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
// decode with gotd's tg after translation, holding the client's values. A
// call still in its wrappers is refused: they come off first, in
// internal/invoke.
func TestS5_RequestsTranslateToTheServerLayer(t *testing.T) {
	r := Default()
	for _, l := range oldLayers() {
		br := r.For(l)
		c := br.Client
		// Durations were whole seconds before layer 160.
		var duration any = Double(0x3ff8000000000000) // 1.5
		wantDuration := 1.5
		if f := c.Constructor("documentAttributeVideo").Fields; f[fieldIndex(c.Constructor("documentAttributeVideo"), "duration")].Type.Kind == KindInt {
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
		if _, _, err := br.Request(raw); err == nil {
			t.Fatalf("layer %d: a wrapped call was translated", l)
		}
		if raw, err = c.Marshal(send); err != nil {
			t.Fatal(err)
		}
		out, call, err := br.Request(raw)
		if err != nil {
			t.Fatalf("layer %d: %v", l, err)
		}
		if call.Name != "messages.sendMedia" || call.ServerResult.Name != "Updates" {
			t.Fatalf("layer %d: call %+v", l, call)
		}
		var req tg.MessagesSendMediaRequest
		if err := req.Decode(&bin.Buffer{Buf: out}); err != nil {
			t.Fatalf("layer %d: tg cannot decode the translation: %v", l, err)
		}
		media, ok := req.Media.(*tg.InputMediaUploadedDocument)
		if !ok || req.Message != "hello" || req.RandomID != 77 || !req.Silent {
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
	"messageActionGiftCode.months":              true,
	"messageActionGiftPremium.months":           true,
	"payments.checkedGiftCode.months":           true,
	"starGiftAttributeBackdrop.rarity_permille": true,
	"starsTransaction.stars":                    true,
	"messages.translateText.from_lang":          true, // became tone (a function filedc does not serve)
	// The Pyrogram family's layer 194 spells these in camel case; a gift
	// message filedc never sends.
	"messageActionGiftPremium.cryptoCurrency": true,
	"messageActionGiftPremium.cryptoAmount":   true,
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
					known := knownChanges[sc.Name+"."+f.Name]
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

// TestS5_ResolveLayers: an unknown layer is served in the nearest known
// layer not above it; older than all of them, in the oldest.
func TestS5_ResolveLayers(t *testing.T) {
	r := Default()
	for declared, want := range map[int]int{0: ServerLayer, 198: 198, 141: 140, 226: 225, 227: 227, 228: 228,
		229: 229, 300: 229, 100: 133, 144: 144, 1: 133, -5: 133} {
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
		data, err := os.ReadFile("schema/" + name + ".tl")
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

// TestS5_NumbersChangeKind: a field that is an int in the client's layer and
// a double in the server's (documentAttributeVideo.duration, layer 158)
// keeps its value both ways, rounded half away from zero on the way to the
// client; a double no integer can hold leaves out the value holding it.
func TestS5_NumbersChangeKind(t *testing.T) {
	br := Default().For(158)
	attr := br.Client.Constructor("documentAttributeVideo")
	if attr.Fields[fieldIndex(attr, "duration")].Type.Kind != KindInt {
		t.Fatal("layer 158's video duration is no int")
	}
	for _, c := range []struct {
		duration float64
		want     int32
		ok       bool
	}{{1.5, 2, true}, {0.4, 0, true}, {3599.6, 3600, true}, {-0.5, -1, true}, {7, 7, true},
		{math.NaN(), 0, false}, {math.Inf(1), 0, false}, {1e12, 0, false}} {
		doc := &tg.Document{ID: 1, MimeType: "video/mp4", Attributes: []tg.DocumentAttributeClass{
			&tg.DocumentAttributeVideo{Duration: c.duration, W: 1, H: 1}, &tg.DocumentAttributeFilename{FileName: "v.mp4"}}}
		var out bin.Buffer
		call := callOf(t, br, "messages.getDocumentByHash")
		if err := br.Answer(call, encode(t, doc), &out); err != nil {
			t.Fatalf("%v: %v", c.duration, err)
		}
		v, _, err := br.Client.Decode(out.Buf, call.ClientResult)
		if err != nil {
			t.Fatal(err)
		}
		attrs := v.(*Object).Field("attributes").([]any)
		if !c.ok {
			if len(attrs) != 1 || attrs[0].(*Object).C.Name != "documentAttributeFilename" {
				t.Errorf("%v: attributes %v", c.duration, attrs)
			}
			continue
		}
		if got := attrs[0].(*Object).Field("duration"); len(attrs) != 2 || got != c.want {
			t.Errorf("%v became %v, want %d", c.duration, got, c.want)
		}
	}
	// Up: the client's int seconds are the server's double.
	c := br.Client
	raw, err := c.Marshal(c.MustBuild("messages.uploadMedia", map[string]any{
		"peer": c.MustBuild("inputPeerSelf", nil),
		"media": c.MustBuild("inputMediaUploadedDocument", map[string]any{
			"file":       c.MustBuild("inputFile", map[string]any{"id": 1, "parts": 1, "name": "v.mp4", "md5_checksum": ""}),
			"mime_type":  "video/mp4",
			"attributes": []any{c.MustBuild("documentAttributeVideo", map[string]any{"duration": 42, "w": 2, "h": 2})},
		}),
	}))
	if err != nil {
		t.Fatal(err)
	}
	up, _, err := br.Request(raw)
	if err != nil {
		t.Fatal(err)
	}
	var req tg.MessagesUploadMediaRequest
	if err := req.Decode(&bin.Buffer{Buf: up}); err != nil {
		t.Fatal(err)
	}
	media := req.Media.(*tg.InputMediaUploadedDocument)
	if video, ok := media.Attributes[0].(*tg.DocumentAttributeVideo); len(media.Attributes) != 1 || !ok || video.Duration != 42 {
		t.Fatalf("attributes %+v", media.Attributes)
	}
}
