package store

import "context"

// PartLister is implemented by Temp stores that several processes of one DC
// share. A process that did not see every part of an upload (a client may
// save parts through one process and finalize through another) reads the
// upload's current parts from the store before it finalizes or evicts.
type PartLister interface {
	// Parts returns the parts of upload id present in the store, ordered by
	// Index, without reading their content and without removing anything
	// (other processes may be writing). A missing upload has no parts.
	Parts(ctx context.Context, id UploadID) ([]Part, error)
}

// HashStateKeeper is implemented by Temp stores that keep, beside an
// upload's parts, the state of the hashes over its first parts (rule F5):
// a process that restarts in the middle of an upload goes on from it
// instead of reading those parts back. The state is opaque to the store;
// the engine checks it against the parts it names before it trusts it.
type HashStateKeeper interface {
	// PutHashState replaces upload id's state. DeleteUpload removes it.
	PutHashState(ctx context.Context, id UploadID, state []byte) error
	// HashState returns upload id's state, or ErrNotFound.
	HashState(ctx context.Context, id UploadID) ([]byte, error)
}
