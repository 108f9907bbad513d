package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/jpeg"
	"testing"
	"time"

	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"
)

// withUser runs f with a gotd client signed in as the test-phone user phone
// (S6; the server runs with --test-phones).
func withUser(t testing.TB, srv *dc, phone string, f func(ctx context.Context, api *tg.Client, self *tg.User) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client := srv.client(transport.Intermediate)
	err := client.Run(ctx, func(ctx context.Context) error {
		returned := false
		defer func() {
			if !returned {
				cancel()
			}
		}()
		if err := auth.NewFlow(auth.TestUser(phone, 2), auth.SendCodeOptions{}).Run(ctx, client.Auth()); err != nil {
			returned = true
			return fmt.Errorf("sign in %s: %w", phone, err)
		}
		self, err := client.Self(ctx)
		if err != nil {
			returned = true
			return err
		}
		err = f(ctx, client.API(), self)
		returned = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func inputUserOf(u *tg.User) *tg.InputUser {
	return &tg.InputUser{UserID: u.ID, AccessHash: u.AccessHash}
}

// chatOf returns the one chat of an Updates answer.
func chatOf(t *testing.T, u tg.UpdatesClass) tg.ChatClass {
	t.Helper()
	up, ok := u.(*tg.Updates)
	if !ok || len(up.Chats) != 1 {
		t.Fatalf("updates %T without its chat: %+v", u, u)
	}
	return up.Chats[0]
}

// serviceAction returns the action of the one service message of an
// Updates answer.
func serviceAction(t *testing.T, u tg.UpdatesClass) tg.MessageActionClass {
	t.Helper()
	for _, up := range u.(*tg.Updates).Updates {
		var msg tg.MessageClass
		switch up := up.(type) {
		case *tg.UpdateNewMessage:
			msg = up.Message
		case *tg.UpdateNewChannelMessage:
			msg = up.Message
		default:
			continue
		}
		if s, ok := msg.(*tg.MessageService); ok {
			return s.Action
		}
	}
	t.Fatalf("no service message in %+v", u)
	return nil
}

// downloadJPEG downloads loc and returns the JPEG's size.
func downloadJPEG(ctx context.Context, t *testing.T, api *tg.Client, loc tg.InputFileLocationClass) (int, int) {
	t.Helper()
	var out bytes.Buffer
	if _, err := downloader.NewDownloader().Download(api, loc).Stream(ctx, &out); err != nil {
		t.Fatalf("download %T: %v", loc, err)
	}
	cfg, err := jpeg.DecodeConfig(&out)
	if err != nil {
		t.Fatalf("download %T: %v", loc, err)
	}
	return cfg.Width, cfg.Height
}

// TestM8_ChatPhotosOverTheWire: user accounts create a basic group and a
// channel, add members (a bot among them), set, reuse and remove photos;
// members see and download them, others get Telegram's errors, and media
// sent to a chat is read by every member with their own file references.
func TestM8_ChatPhotosOverTheWire(t *testing.T) {
	srv := startServer(t, "--test-phones")
	withBot(t, srv, botToken, func(ctx context.Context, botAPI *tg.Client) error {
		bot := self(ctx, t, botAPI)
		_, err := botAPI.MessagesCreateChat(ctx, &tg.MessagesCreateChatRequest{Title: "by a bot", Users: []tg.InputUserClass{}})
		if !tgerr.Is(err, "BOT_METHOD_INVALID") {
			t.Errorf("a bot creating a chat: %v", err)
		}
		withUser(t, srv, "9996621001", func(ctx context.Context, bobAPI *tg.Client, bob *tg.User) error {
			withUser(t, srv, "9996621002", func(ctx context.Context, carlAPI *tg.Client, carl *tg.User) error {
				withUser(t, srv, "9996621000", func(ctx context.Context, annAPI *tg.Client, ann *tg.User) error {
					testBasicGroup(ctx, t, annAPI, bobAPI, carlAPI, botAPI, bob, bot)
					testChannel(ctx, t, annAPI, bobAPI, carlAPI, bob, bot)
					return nil
				})
				return nil
			})
			return nil
		})
		return nil
	})
}

func testBasicGroup(ctx context.Context, t *testing.T, annAPI, bobAPI, carlAPI, botAPI *tg.Client, bob, bot *tg.User) {
	created, err := annAPI.MessagesCreateChat(ctx, &tg.MessagesCreateChatRequest{Title: "team", Users: []tg.InputUserClass{inputUserOf(bob)}})
	if err != nil {
		t.Fatal(err)
	}
	chat, ok := chatOf(t, created.Updates).(*tg.Chat)
	if !ok || chat.Title != "team" || chat.ParticipantsCount != 2 || !chat.Creator {
		t.Fatalf("created %+v", chatOf(t, created.Updates))
	}
	if a, ok := serviceAction(t, created.Updates).(*tg.MessageActionChatCreate); !ok || len(a.Users) != 2 {
		t.Errorf("created with action %+v", a)
	}
	peer := &tg.InputPeerChat{ChatID: chat.ID}
	// Bob, a member, adds the bot; adding it again is refused.
	if _, err := bobAPI.MessagesAddChatUser(ctx, &tg.MessagesAddChatUserRequest{ChatID: chat.ID, UserID: inputUserOf(bot)}); err != nil {
		t.Fatal(err)
	}
	_, err = bobAPI.MessagesAddChatUser(ctx, &tg.MessagesAddChatUserRequest{ChatID: chat.ID, UserID: inputUserOf(bot)})
	if !tgerr.Is(err, "USER_ALREADY_PARTICIPANT") {
		t.Errorf("adding the bot twice: %v", err)
	}

	// Ann sets a photo made of an upload: the sizes of a profile photo.
	file, err := upload(ctx, annAPI, "team.jpg", testJPEG(t, 900, 900))
	if err != nil {
		t.Fatal(err)
	}
	edited, err := annAPI.MessagesEditChatPhoto(ctx, &tg.MessagesEditChatPhotoRequest{ChatID: chat.ID,
		Photo: &tg.InputChatUploadedPhoto{File: file}})
	if err != nil {
		t.Fatal(err)
	}
	action, ok := serviceAction(t, edited).(*tg.MessageActionChatEditPhoto)
	if !ok {
		t.Fatalf("edit photo action %+v", action)
	}
	photo := action.Photo.(*tg.Photo)
	if types := sizeTypes(photo.Sizes); types != "iabc" {
		t.Errorf("chat photo sizes %q, want iabc", types)
	}

	// Bob sees it on the chat and downloads both sizes by peer.
	chats, err := bobAPI.MessagesGetChats(ctx, []int64{chat.ID})
	if err != nil {
		t.Fatal(err)
	}
	seen := chats.GetChats()[0].(*tg.Chat)
	cp, ok := seen.Photo.(*tg.ChatPhoto)
	if !ok || cp.PhotoID != photo.ID || len(cp.StrippedThumb) == 0 || cp.DCID != 2 || seen.Creator {
		t.Fatalf("Bob sees chat %+v with photo %+v", seen, seen.Photo)
	}
	for _, big := range []bool{false, true} {
		w, h := downloadJPEG(ctx, t, bobAPI, &tg.InputPeerPhotoFileLocation{Peer: peer, PhotoID: cp.PhotoID, Big: big})
		if want := map[bool]int{false: 160, true: 640}[big]; w != want || h != want {
			t.Errorf("big=%v: %dx%d, want %d", big, w, h, want)
		}
	}
	// The full chat has the photo, with a reference Bob can download with.
	full, err := bobAPI.MessagesGetFullChat(ctx, chat.ID)
	if err != nil {
		t.Fatal(err)
	}
	fp := full.FullChat.(*tg.ChatFull).ChatPhoto.(*tg.Photo)
	if parts := full.FullChat.(*tg.ChatFull).Participants.(*tg.ChatParticipants); len(parts.Participants) != 3 {
		t.Errorf("participants %+v", parts.Participants)
	}
	if w, _ := downloadJPEG(ctx, t, bobAPI, &tg.InputPhotoFileLocation{ID: fp.ID, AccessHash: fp.AccessHash,
		FileReference: fp.FileReference, ThumbSize: "c"}); w != 640 {
		t.Errorf("full chat photo c: width %d", w)
	}

	// Carl is no member: he sees neither the chat nor its photo.
	_, err = carlAPI.MessagesGetFullChat(ctx, chat.ID)
	if !tgerr.Is(err, "CHAT_ID_INVALID") {
		t.Errorf("a stranger's getFullChat: %v", err)
	}
	_, err = carlAPI.UploadGetFile(ctx, &tg.UploadGetFileRequest{Limit: 4096, Location: &tg.InputPeerPhotoFileLocation{Peer: peer, PhotoID: cp.PhotoID}})
	if !tgerr.Is(err, "CHAT_ID_INVALID") {
		t.Errorf("a stranger downloading the chat photo: %v", err)
	}
	if c, err := carlAPI.MessagesGetChats(ctx, []int64{chat.ID}); err != nil {
		t.Error(err)
	} else if _, ok := c.GetChats()[0].(*tg.ChatForbidden); !ok {
		t.Errorf("a stranger's getChats: %T", c.GetChats()[0])
	}
	_, err = carlAPI.MessagesEditChatPhoto(ctx, &tg.MessagesEditChatPhotoRequest{ChatID: chat.ID, Photo: &tg.InputChatPhotoEmpty{}})
	if !tgerr.Is(err, "CHAT_ID_INVALID") {
		t.Errorf("a stranger removing the photo: %v", err)
	}
	_, err = annAPI.MessagesEditChatPhoto(ctx, &tg.MessagesEditChatPhotoRequest{ChatID: chat.ID,
		Photo: &tg.InputChatPhoto{ID: &tg.InputPhoto{ID: 12345, AccessHash: 1}}})
	if !tgerr.Is(err, "PHOTO_INVALID") {
		t.Errorf("an unknown photo: %v", err)
	}

	// The bot sends a document to the chat; each member reads it from
	// their own history and downloads it with their own reference.
	content := randomBytes(81, 700<<10)
	botFile, err := upload(ctx, botAPI, "report.bin", content)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := botAPI.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: peer, Message: "for the team", RandomID: 77,
		Media: &tg.InputMediaUploadedDocument{File: botFile, MimeType: "application/octet-stream",
			Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "report.bin"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := sentMessages(t, sent, 77); len(msgs) != 1 || !msgs[0].Out {
		t.Errorf("the bot's own copy %+v", msgs)
	}
	for name, api := range map[string]*tg.Client{"Ann": annAPI, "Bob": bobAPI} {
		doc := chatDocument(ctx, t, api, peer, "for the team")
		var out bytes.Buffer
		if _, err := downloader.NewDownloader().Download(api, doc.AsInputDocumentFileLocation("")).Stream(ctx, &out); err != nil {
			t.Fatalf("%s downloading: %v", name, err)
		}
		if !bytes.Equal(out.Bytes(), content) {
			t.Errorf("%s downloaded %d bytes that differ", name, out.Len())
		}
	}
	_, err = carlAPI.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: peer, Limit: 10})
	if !tgerr.Is(err, "CHAT_ID_INVALID") {
		t.Errorf("a stranger reading the history: %v", err)
	}

	// Removing the photo, twice; then the old one comes back by id, with
	// the reference of the service message that set it.
	if _, err := annAPI.MessagesEditChatPhoto(ctx, &tg.MessagesEditChatPhotoRequest{ChatID: chat.ID, Photo: &tg.InputChatPhotoEmpty{}}); err != nil {
		t.Fatal(err)
	}
	_, err = annAPI.MessagesEditChatPhoto(ctx, &tg.MessagesEditChatPhotoRequest{ChatID: chat.ID, Photo: &tg.InputChatPhotoEmpty{}})
	if !tgerr.Is(err, "CHAT_NOT_MODIFIED") {
		t.Errorf("removing no photo: %v", err)
	}
	old := editPhotoFromHistory(ctx, t, bobAPI, peer)
	if old.ID != photo.ID {
		t.Fatalf("the history's photo %d, want %d", old.ID, photo.ID)
	}
	if _, err := bobAPI.MessagesEditChatPhoto(ctx, &tg.MessagesEditChatPhotoRequest{ChatID: chat.ID,
		Photo: &tg.InputChatPhoto{ID: &tg.InputPhoto{ID: old.ID, AccessHash: old.AccessHash, FileReference: old.FileReference}}}); err != nil {
		t.Fatalf("a member reusing the old photo: %v", err)
	}
	chats, err = annAPI.MessagesGetChats(ctx, []int64{chat.ID})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := chats.GetChats()[0].(*tg.Chat).Photo.(*tg.ChatPhoto); !ok || p.PhotoID != photo.ID {
		t.Errorf("after reuse the chat photo is %+v", chats.GetChats()[0].(*tg.Chat).Photo)
	}
}

func testChannel(ctx context.Context, t *testing.T, annAPI, bobAPI, carlAPI *tg.Client, bob, bot *tg.User) {
	created, err := annAPI.ChannelsCreateChannel(ctx, &tg.ChannelsCreateChannelRequest{Broadcast: true, Title: "news", About: "what is new"})
	if err != nil {
		t.Fatal(err)
	}
	channel, ok := chatOf(t, created).(*tg.Channel)
	if !ok || !channel.Broadcast || !channel.Creator || channel.AccessHash == 0 {
		t.Fatalf("created %+v", chatOf(t, created))
	}
	in := &tg.InputChannel{ChannelID: channel.ID, AccessHash: channel.AccessHash}
	peer := &tg.InputPeerChannel{ChannelID: channel.ID, AccessHash: channel.AccessHash}
	if _, err := annAPI.ChannelsInviteToChannel(ctx, &tg.ChannelsInviteToChannelRequest{Channel: in,
		Users: []tg.InputUserClass{inputUserOf(bob), inputUserOf(bot)}}); err != nil {
		t.Fatal(err)
	}
	// A member who is no admin changes nothing.
	_, err = bobAPI.ChannelsEditPhoto(ctx, &tg.ChannelsEditPhotoRequest{Channel: in, Photo: &tg.InputChatPhotoEmpty{}})
	if !tgerr.Is(err, "CHAT_ADMIN_REQUIRED") {
		t.Errorf("a member editing the photo: %v", err)
	}
	file, err := upload(ctx, annAPI, "news.jpg", testJPEG(t, 500, 500))
	if err != nil {
		t.Fatal(err)
	}
	edited, err := annAPI.ChannelsEditPhoto(ctx, &tg.ChannelsEditPhotoRequest{Channel: in, Photo: &tg.InputChatUploadedPhoto{File: file}})
	if err != nil {
		t.Fatal(err)
	}
	photo := serviceAction(t, edited).(*tg.MessageActionChatEditPhoto).Photo.(*tg.Photo)

	got, err := bobAPI.ChannelsGetChannels(ctx, []tg.InputChannelClass{in})
	if err != nil {
		t.Fatal(err)
	}
	seen := got.GetChats()[0].(*tg.Channel)
	cp, ok := seen.Photo.(*tg.ChatPhoto)
	if !ok || cp.PhotoID != photo.ID || seen.Creator {
		t.Fatalf("Bob sees channel %+v", seen)
	}
	if w, h := downloadJPEG(ctx, t, bobAPI, &tg.InputPeerPhotoFileLocation{Peer: peer, PhotoID: cp.PhotoID, Big: true}); w != 500 || h != 500 {
		t.Errorf("big channel photo %dx%d, want the upload's 500x500 (no upscaling)", w, h)
	}
	full, err := bobAPI.ChannelsGetFullChannel(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if fp, ok := full.FullChat.(*tg.ChannelFull).ChatPhoto.(*tg.Photo); !ok || fp.ID != photo.ID {
		t.Errorf("full channel photo %+v", full.FullChat.(*tg.ChannelFull).ChatPhoto)
	}

	// Ann posts a photo; Bob reads and downloads it. Bob cannot post.
	pf, err := upload(ctx, annAPI, "post.jpg", testJPEG(t, 640, 480))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := annAPI.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: peer, Message: "a post", RandomID: 78,
		Media: &tg.InputMediaUploadedPhoto{File: pf}}); err != nil {
		t.Fatal(err)
	}
	hist, err := bobAPI.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: peer, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	cm, ok := hist.(*tg.MessagesChannelMessages)
	if !ok || len(cm.Messages) != 3 || cm.Pts != 3 {
		t.Fatalf("channel history %T: %+v", hist, hist)
	}
	post := cm.Messages[0].(*tg.Message)
	if post.Out || post.Message != "a post" {
		t.Errorf("Bob sees post %+v", post)
	}
	pp := post.Media.(*tg.MessageMediaPhoto).Photo.(*tg.Photo)
	if w, _ := downloadJPEG(ctx, t, bobAPI, &tg.InputPhotoFileLocation{ID: pp.ID, AccessHash: pp.AccessHash, FileReference: pp.FileReference, ThumbSize: "x"}); w != 640 {
		t.Errorf("the post's photo: width %d", w)
	}
	byID, err := bobAPI.ChannelsGetMessages(ctx, &tg.ChannelsGetMessagesRequest{Channel: in, ID: []tg.InputMessageClass{&tg.InputMessageID{ID: post.ID}}})
	if err != nil || len(byID.(*tg.MessagesChannelMessages).Messages) != 1 {
		t.Errorf("channels.getMessages: %+v, %v", byID, err)
	}
	_, err = bobAPI.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: peer, RandomID: 79, Media: &tg.InputMediaPhoto{
		ID: &tg.InputPhoto{ID: pp.ID, AccessHash: pp.AccessHash, FileReference: pp.FileReference}}})
	if !tgerr.Is(err, "CHAT_WRITE_FORBIDDEN") {
		t.Errorf("a member posting in a broadcast channel: %v", err)
	}

	// Carl is no member; a wrong access hash names no channel.
	_, err = carlAPI.ChannelsGetFullChannel(ctx, in)
	if !tgerr.Is(err, "CHANNEL_PRIVATE") {
		t.Errorf("a stranger's getFullChannel: %v", err)
	}
	_, err = carlAPI.ChannelsGetFullChannel(ctx, &tg.InputChannel{ChannelID: channel.ID, AccessHash: channel.AccessHash + 1})
	if !tgerr.Is(err, "CHANNEL_INVALID") {
		t.Errorf("a wrong access hash: %v", err)
	}
	_, err = carlAPI.UploadGetFile(ctx, &tg.UploadGetFileRequest{Limit: 4096, Location: &tg.InputPeerPhotoFileLocation{Peer: peer, PhotoID: cp.PhotoID}})
	if !tgerr.Is(err, "CHANNEL_PRIVATE") {
		t.Errorf("a stranger downloading the channel photo: %v", err)
	}
}

func sizeTypes(sizes []tg.PhotoSizeClass) string {
	s := ""
	for _, size := range sizes {
		s += size.GetType()
	}
	return s
}

// chatHistory returns the latest messages of a chat, service ones too.
func chatHistory(ctx context.Context, t *testing.T, api *tg.Client, peer tg.InputPeerClass) []tg.MessageClass {
	t.Helper()
	hist, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: peer, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := hist.AsModified()
	return msgs.GetMessages()
}

// chatDocument finds the document of the message with text in a chat's history.
func chatDocument(ctx context.Context, t *testing.T, api *tg.Client, peer tg.InputPeerClass, text string) *tg.Document {
	t.Helper()
	for _, m := range chatHistory(ctx, t, api, peer) {
		if m, ok := m.(*tg.Message); ok && m.Message == text {
			if md, ok := m.Media.(*tg.MessageMediaDocument); ok {
				return md.Document.(*tg.Document)
			}
		}
	}
	t.Fatalf("no document %q in the history", text)
	return nil
}

// editPhotoFromHistory finds the photo of the latest messageActionChatEditPhoto.
func editPhotoFromHistory(ctx context.Context, t *testing.T, api *tg.Client, peer tg.InputPeerClass) *tg.Photo {
	t.Helper()
	for _, m := range chatHistory(ctx, t, api, peer) {
		if s, ok := m.(*tg.MessageService); ok {
			if a, ok := s.Action.(*tg.MessageActionChatEditPhoto); ok {
				return a.Photo.(*tg.Photo)
			}
		}
	}
	t.Fatal("no photo change in the history")
	return nil
}

// TestM8_GramJSChatPhotos: GramJS (layer 198), signed in as a test-phone
// user, creates a basic group and a megagroup with a gotd user in them,
// gives each an uploaded photo and downloads it by peer as
// downloadProfilePhoto does, and sends a document to each. The gotd member
// sees the photos on the chats, downloads the same bytes, and downloads
// the documents from the chats' histories.
func TestM8_GramJSChatPhotos(t *testing.T) {
	srv := startServer(t, "--test-phones")
	image := testJPEG(t, 700, 700)
	doc := randomBytes(82, 300<<10)
	withUser(t, srv, "9996621001", func(ctx context.Context, bobAPI *tg.Client, _ *tg.User) error {
		bob := self(ctx, t, bobAPI)
		res, _ := runGramJSWith(t, srv, "chats", map[string][]byte{"1-photo.jpg": image, "2-doc.bin": doc},
			"FILEDC_PHONE=9996621000", fmt.Sprintf("FILEDC_MEMBER=%d:%d", bob.ID, bob.AccessHash))
		if res.Self.Bot {
			t.Errorf("GramJS signed in as %+v, want a user", res.Self)
		}
		for _, c := range []struct {
			name string
			got  gramjsChat
		}{{"group", res.Group}, {"channel", res.Channel}} {
			if c.got.PhotoID == "" || c.got.PhotoID != c.got.FullPhotoID || c.got.Big.Downloaded == 0 || c.got.Small.Downloaded == 0 {
				t.Fatalf("%s: GramJS saw %+v", c.name, c.got)
			}
			var id, hash int64
			fmt.Sscan(c.got.ID, &id)
			var peer tg.InputPeerClass = &tg.InputPeerChat{ChatID: id}
			var chat tg.ChatClass
			if c.name == "channel" {
				fmt.Sscan(c.got.AccessHash, &hash)
				peer = &tg.InputPeerChannel{ChannelID: id, AccessHash: hash}
				got, err := bobAPI.ChannelsGetChannels(ctx, []tg.InputChannelClass{&tg.InputChannel{ChannelID: id, AccessHash: hash}})
				if err != nil {
					t.Fatal(err)
				}
				chat = got.GetChats()[0]
			} else {
				got, err := bobAPI.MessagesGetChats(ctx, []int64{id})
				if err != nil {
					t.Fatal(err)
				}
				chat = got.GetChats()[0]
			}
			full, ok := chat.(tg.FullChat)
			if !ok {
				t.Fatalf("%s: Bob sees %T", c.name, chat)
			}
			cp, ok := full.GetPhoto().(*tg.ChatPhoto)
			if !ok || fmt.Sprint(cp.PhotoID) != c.got.PhotoID {
				t.Fatalf("%s: Bob sees photo %+v, GramJS set %s", c.name, full.GetPhoto(), c.got.PhotoID)
			}
			var big bytes.Buffer
			if _, err := downloader.NewDownloader().Download(bobAPI, &tg.InputPeerPhotoFileLocation{Peer: peer, PhotoID: cp.PhotoID, Big: true}).Stream(ctx, &big); err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(big.Bytes()); hex.EncodeToString(sum[:]) != c.got.Big.SHA256 {
				t.Errorf("%s: Bob's big photo (%d bytes) differs from GramJS's (%d)", c.name, big.Len(), c.got.Big.Downloaded)
			}
			d := chatDocument(ctx, t, bobAPI, peer, "to the "+c.name)
			var out bytes.Buffer
			if _, err := downloader.NewDownloader().Download(bobAPI, d.AsInputDocumentFileLocation("")).Stream(ctx, &out); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), doc) {
				t.Errorf("%s: Bob downloaded %d bytes that differ from what GramJS sent", c.name, out.Len())
			}
		}
		return nil
	})
}
