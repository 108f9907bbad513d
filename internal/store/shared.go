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
