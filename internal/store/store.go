// Package store defines where the file engine keeps its bytes and records.
//
// Three roles, each an interface so that scale-out backends can replace the
// embedded ones independently:
//
//   - Temp holds temporary parts (bytes plus a small header) of uploads that have
//     not been finalized yet. Embedded: files on local disk. Later: Redis state
//     with part bytes in object storage.
//   - Content holds the bytes of finalized files. Finalization "seals" the parts
//     of an upload into a stored file; backends do this without copying the bytes
//     where they can (F5), so a stored file is a sequence of equal-size parts.
//   - Meta holds the records of finalized files, their range hashes and the set of
//     consumed uploads. Its CommitFile is the single commit point of finalization.
//
// The conformance suite in storetest runs against every implementation.
package store

import (
	"context"
	"encoding/hex"
	"errors"
	"time"
)

// ErrNotFound is returned when an upload, part, file or record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrCorrupt is returned when stored bytes fail their checksum (a torn write
// after a power loss, or damage on disk). The engine treats such a part as missing.
var ErrCorrupt = errors.New("store: corrupt data")

// ErrPartChanged is returned by Seal when a part was saved again (through
// another process sharing the store) after it was read: the caller reads
// the parts again rather than seal bytes other than those it hashed.
var ErrPartChanged = errors.New("store: part saved again since it was read")

// UploadKey names an upload the way a client does.
type UploadKey struct {
	Owner  int64 // the authorized account that saves the parts
	FileID int64 // the random file_id chosen by the client
	Big    bool  // saved with saveBigFilePart (finalized as inputFileBig)
}

// UploadID names one generation of an upload. A client may reuse a file_id
// after finalization; the new parts then belong to a new UploadID.
type UploadID [16]byte

func (id UploadID) String() string { return hex.EncodeToString(id[:]) }

// ParseUploadID parses the form produced by UploadID.String.
func ParseUploadID(s string) (UploadID, error) {
	var id UploadID
	if len(s) != 2*len(id) {
		return id, errors.New("store: bad upload id")
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err
}

// Part describes one saved part. Its bytes are stored beside it.
type Part struct {
	Index   int       // file_part
	Size    int       // number of content bytes
	Total   int32     // file_total_parts as sent: -1 unknown, 0 on the small path
	SavedAt time.Time // engine clock when the part was saved
	// Version names this save of the part: saving the part again gives it
	// another. ReadPart reports it so that Seal seals exactly what was read.
	Version uint64
}

// Upload is one temporary upload and its parts, as found by Temp.Scan.
type Upload struct {
	ID    UploadID
	Key   UploadKey
	Parts []Part // ordered by Index
}

// Temp stores the temporary parts of uploads.
type Temp interface {
	// PutPart stores one part, replacing a part with the same index, and
	// returns the Version it gave this save. A reader sees either the old
	// part or the new one, never a mix.
	PutPart(ctx context.Context, id UploadID, key UploadKey, p Part, data []byte) (uint64, error)
	// ReadPart reads part index of upload id into buf (which must hold
	// MaxPartSize bytes) and returns its description and content. It returns
	// ErrNotFound if the part does not exist and ErrCorrupt if its checksum fails.
	ReadPart(ctx context.Context, id UploadID, index int, buf []byte) (Part, []byte, error)
	// DeletePart removes one part; a missing part is not an error.
	DeletePart(ctx context.Context, id UploadID, index int) error
	// DeleteUpload removes all parts of an upload; a missing upload is not an error.
	DeleteUpload(ctx context.Context, id UploadID) error
	// Scan calls fn for every upload present, used to rebuild state on start.
	Scan(ctx context.Context, fn func(Upload) error) error
}

// Layout says how a stored file is cut into parts: every part holds PartSize
// bytes except the last, which holds the rest of Size.
type Layout struct {
	Size     int64
	PartSize int
	Parts    int
}

// Content stores the bytes of finalized files.
type Content interface {
	// Seal makes parts 0 to len(versions)-1 of upload `from`, each in the
	// version given (as ReadPart reported it), the durable content of file
	// `to`. If a part is now in another version it fails with ErrPartChanged
	// (ErrNotFound if it is gone) and seals nothing: a file never mixes
	// versions (S7e). The upload's parts stay readable in Temp until deleted
	// there. Sealing the same pair again is allowed and yields the same result.
	Seal(ctx context.Context, from UploadID, to int64, versions []uint64) error
	// ReadAt fills p with the file's bytes starting at off; off+len(p) must not
	// exceed the layout's size.
	ReadAt(ctx context.Context, file int64, l Layout, p []byte, off int64) error
	// Delete removes a stored file; a missing file is not an error.
	Delete(ctx context.Context, file int64) error
	// List calls fn for every stored file, including ones no record points to
	// (left by a crash between Seal and CommitFile).
	List(ctx context.Context, fn func(file int64) error) error
}

// FileRecord is what the engine knows about a finalized file.
type FileRecord struct {
	ID         int64
	AccessHash int64
	Owner      int64
	Name       string
	Size       int64
	PartSize   int
	Parts      int
	SHA256     [32]byte
	Type       string // storage.FileType name: jpeg, png, ..., unknown
	Created    time.Time
	Upload     UploadID // the upload it consumed
}

// Layout returns how the file's content is cut into parts.
func (r FileRecord) Layout() Layout {
	return Layout{Size: r.Size, PartSize: r.PartSize, Parts: r.Parts}
}

// Hash is the SHA-256 of one range of a file.
type Hash = [32]byte

// Meta stores records of finalized files.
type Meta interface {
	// CommitFile atomically stores the record and its range hashes and marks
	// rec.Upload consumed. It fails if the upload was consumed already.
	CommitFile(ctx context.Context, rec FileRecord, ranges []Hash) error
	// File returns the record of a file or ErrNotFound.
	File(ctx context.Context, id int64) (FileRecord, error)
	// RangeHashes returns up to n hashes starting with range index first.
	RangeHashes(ctx context.Context, id int64, first, n int) ([]Hash, error)
	// Consumed reports whether an upload has been finalized.
	Consumed(ctx context.Context, id UploadID) (bool, error)
	// ForgetConsumed drops consumed markers recorded before t, once their
	// uploads' parts are gone for sure.
	ForgetConsumed(ctx context.Context, before time.Time) error
	// DeleteFile removes a record and its hashes.
	DeleteFile(ctx context.Context, id int64) error
	// Files calls fn for every record.
	Files(ctx context.Context, fn func(FileRecord) error) error
}

// ErrConsumed is returned by CommitFile when the upload was finalized before.
var ErrConsumed = errors.New("store: upload already consumed")

// MaxPartSize is the largest part a client may save (512 KiB).
const MaxPartSize = 512 << 10

// AuthKey is an MTProto authorization key and what is bound to it.
type AuthKey struct {
	ID        [8]byte
	Value     [256]byte
	Created   time.Time
	ExpiresAt time.Time // temporary (PFS) keys; zero for permanent keys
	UserID    int64     // the account authorized on this key, 0 before login
	Layer     int       // the API layer the client declared last (0: none yet)
	// PermID is, for a temporary key bound with auth.bindTempAuthKey, the id
	// of the permanent key it stands for; zero otherwise.
	PermID [8]byte
	// LastUsed is when a connection last brought the key, kept coarsely
	// (about hourly) so that unused keys can be collected.
	LastUsed time.Time
}

// Unused reports whether a key may be collected at now: a temporary key
// past its expiry, or a key no account logged in on, bound to nothing,
// and not used since idleBefore.
func (k AuthKey) Unused(idleBefore, now time.Time) bool {
	if !k.ExpiresAt.IsZero() && now.After(k.ExpiresAt) {
		return true
	}
	used := k.LastUsed
	if k.Created.After(used) {
		used = k.Created
	}
	return k.UserID == 0 && k.PermID == [8]byte{} && used.Before(idleBefore)
}

// AuthKeys stores authorization keys so they survive restarts.
type AuthKeys interface {
	// PutAuthKey creates or replaces a key.
	PutAuthKey(ctx context.Context, k AuthKey) error
	// AuthKey returns a key or ErrNotFound.
	AuthKey(ctx context.Context, id [8]byte) (AuthKey, error)
	// DeleteAuthKey removes a key; a missing key is not an error.
	DeleteAuthKey(ctx context.Context, id [8]byte) error
	// DeleteUnusedAuthKeys removes at most limit keys that are Unused at
	// now, and returns how many went.
	DeleteUnusedAuthKeys(ctx context.Context, idleBefore, now time.Time, limit int) (int, error)
	// LogOut clears the account of every key logged in as user, and
	// returns how many were.
	LogOut(ctx context.Context, user int64) (int, error)
}

// Account is a user of the server. Bots log in with a token the operator
// created: "<ID>:<Secret>".
type Account struct {
	ID        int64
	Bot       bool
	Name      string // first name; a bot's name
	Username  string
	Phone     string
	Secret    string // bots: the part of the token after the colon
	AccessKey int64  // the access_hash other accounts see this account with
	Premium   bool
	Created   time.Time
	Photos    []int64 // profile photos, the current one first
}

// Accounts stores accounts.
type Accounts interface {
	// PutAccount creates or replaces an account.
	PutAccount(ctx context.Context, a Account) error
	// Account returns an account or ErrNotFound.
	Account(ctx context.Context, id int64) (Account, error)
	// AccountByPhone returns the account with a phone number or ErrNotFound.
	AccountByPhone(ctx context.Context, phone string) (Account, error)
	// Bots returns the bot accounts, by id.
	Bots(ctx context.Context) ([]Account, error)
}

// NewAccountID returns a random account id of at least min that no account
// has yet (ids are random so that they reveal nothing of the account count).
func NewAccountID(ctx context.Context, a Accounts, min int64, random func() int64) (int64, error) {
	for {
		id := min + random()%(1<<40)
		_, err := a.Account(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return id, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// Message is one message in an account's history. As in Telegram's private
// chats, every account has its own copy and its own message ids.
type Message struct {
	Owner     int64 // whose history: an account, or a channel's peer (Chat.Peer)
	ID        int   // per-owner id, assigned by AddMessages (1, 2, ...)
	Peer      int64 // the other account, Owner itself for Saved Messages, or a chat's peer
	From      int64 // the sender
	Out       bool  // sent by Owner
	Date      time.Time
	Text      string
	RandomID  int64  // the sender's random_id, for updateMessageID
	GroupedID int64  // album
	Media     []byte // TL encoding of the MessageMedia, nil for none
	// Action is the TL encoding of a service message's MessageAction (a
	// chat created, its photo changed, ...), nil for an ordinary message.
	Action []byte
	// Objects are the documents and photos Media refers to: while a
	// message names one, it is not deleted (M6).
	Objects []int64
	// Twin is the id of the same private message in Peer's history, 0 for
	// none. TwinOf, set when adding, names that other copy among the
	// messages of the same AddMessages call; both then get each other's id.
	Twin   int
	TwinOf *Message
	// Pts is the owner's event counter after this message (set by AddMessages).
	Pts int
}

// Messages stores message histories.
type Messages interface {
	// AddMessages appends messages to their owners' histories in one
	// transaction, assigning each its id. Every id in a message's Objects
	// must name a document or photo of the same records: when one does not
	// exist (deleted meanwhile, M6) nothing is stored and the error wraps
	// ErrNotFound. The check is atomic with the write, also against
	// CollectDocument and CollectPhoto of other processes.
	AddMessages(ctx context.Context, msgs []*Message) error
	// Messages returns an owner's messages by id, skipping unknown ids.
	Messages(ctx context.Context, owner int64, ids []int) ([]Message, error)
	// History returns up to limit messages of owner's chat with peer whose
	// ids are below before (0: from the newest), newest first.
	History(ctx context.Context, owner, peer int64, before, limit int) ([]Message, error)
	// DeleteMessages deletes an owner's messages by id in one transaction,
	// skipping unknown ids, and returns the deleted messages and the owner's
	// pts after the deletion (one event per deleted message).
	DeleteMessages(ctx context.Context, owner int64, ids []int) ([]Message, int, error)
	// Referenced reports whether any message's Objects names object.
	Referenced(ctx context.Context, object int64) (bool, error)
	// Pts returns the owner's event counter: one per message added or deleted.
	Pts(ctx context.Context, owner int64) (int, error)
}

// Document is what describes a stored file as a Telegram document.
type Document struct {
	ID         int64
	AccessHash int64
	// Owner is the account whose upload made the document and whose
	// metadata (file name, attributes, thumbnails) it carries; 0 for
	// documents stored before owners were recorded.
	Owner      int64
	File       int64 // the stored file with the content, shared by documents of the same content
	FileAccess int64 // its access hash
	Mime       string
	Attributes []byte // TL encoding of the DocumentAttribute vector
	Date       time.Time
	Size       int64
	SHA256     [32]byte    // of the content, for messages.getDocumentByHash (M6)
	Thumbs     []PhotoSize // thumbnails, each a stored file of its own ("m")
	Stripped   []byte      // photoStrippedSize "i" of the thumbnail
	Outline    []byte      // photoPathSize "j" of a sticker (M9)
}

// Documents stores documents.
type Documents interface {
	// PutDocument stores a document and indexes it by content hash, size
	// and mime type, and returns the document as stored. Content is stored
	// once (M6), atomically across processes, but metadata is never shared
	// between owners (S7e): when a document of the same owner has the same
	// content, mime type and attributes, nothing is stored and that
	// document is returned; otherwise, when other documents (of any owner
	// and mime type) have the same content, the new one takes their File
	// and FileAccess.
	PutDocument(ctx context.Context, d Document) (Document, error)
	// Document returns a document or ErrNotFound.
	Document(ctx context.Context, id int64) (Document, error)
	// DocumentByHash returns a document with that content, size and mime
	// type, owner's own when there is one, or ErrNotFound.
	DocumentByHash(ctx context.Context, sha256 [32]byte, size int64, mime string, owner int64) (Document, error)
	// DocumentsByContent returns every document with that content and size,
	// whatever its mime type.
	DocumentsByContent(ctx context.Context, sha256 [32]byte, size int64) ([]Document, error)
	// DeleteDocument removes a document and its hash index entry; a missing
	// document is not an error.
	DeleteDocument(ctx context.Context, id int64) error
	// CollectDocument deletes a document when no message of the same
	// records names it, atomically with that check (M6), and returns it
	// with deleted true and fileFree true when no document uses its File
	// any more. A document that is named or missing is left alone
	// (deleted false).
	CollectDocument(ctx context.Context, id int64) (d Document, deleted, fileFree bool, err error)
}

// PhotoSize is one stored size of a photo.
type PhotoSize struct {
	Type       string // s, m, x, y, w; a, b, c for profile photos; u for a profile video
	W, H       int
	File       int64 // the stored file with this size's JPEG
	FileAccess int64 // its access hash
	Size       int64
}

// Photo is a photo and its sizes.
type Photo struct {
	ID         int64
	AccessHash int64
	Owner      int64
	Date       time.Time
	Sizes      []PhotoSize // smallest first
	Stripped   []byte      // photoStrippedSize "i"
	// Video is the profile video's size "u" (M7); its W and H are the
	// video's, VideoStart the still frame's time in seconds.
	Video      *PhotoSize
	VideoStart float64
}

// Photos stores photos.
type Photos interface {
	PutPhoto(ctx context.Context, p Photo) error
	// Photo returns a photo or ErrNotFound.
	Photo(ctx context.Context, id int64) (Photo, error)
	// DeletePhoto removes a photo; a missing photo is not an error.
	DeletePhoto(ctx context.Context, id int64) error
	// CollectPhoto deletes a photo when no message names it and it is not
	// among its owner's profile photos, atomically with those checks (M6),
	// and returns it with deleted true. A photo that is in use or missing
	// is left alone.
	CollectPhoto(ctx context.Context, id int64) (p Photo, deleted bool, err error)
}
