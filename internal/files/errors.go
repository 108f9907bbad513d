package files

import (
	"errors"
	"strconv"
)

// Error is a failure the client caused or must react to. It carries the exact
// Telegram error name; the RPC edge turns it into an rpc_error with Code.
type Error struct {
	Code    int
	Message string
	// Limit names the flood limit behind a FLOOD_WAIT_X, for metrics.
	Limit string
}

func (e Error) Error() string { return strconv.Itoa(e.Code) + " " + e.Message }

func badRequest(message string) Error { return Error{Code: 400, Message: message} }

// The errors of the file API, as Telegram names them.
var (
	ErrFilePartEmpty       = badRequest("FILE_PART_EMPTY")
	ErrFilePartTooBig      = badRequest("FILE_PART_TOO_BIG")
	ErrFilePartInvalid     = badRequest("FILE_PART_INVALID")
	ErrFilePartsInvalid    = badRequest("FILE_PARTS_INVALID")
	ErrFilePartSizeInvalid = badRequest("FILE_PART_SIZE_INVALID")
	ErrFilePartSizeChanged = badRequest("FILE_PART_SIZE_CHANGED")
	ErrMD5ChecksumInvalid  = badRequest("MD5_CHECKSUM_INVALID")
	ErrFileIDInvalid       = badRequest("FILE_ID_INVALID")
	ErrOffsetInvalid       = badRequest("OFFSET_INVALID")
	ErrLimitInvalid        = badRequest("LIMIT_INVALID")
)

// ErrFilePartMissing is FILE_PART_X_MISSING: part X is not in temporary storage.
func ErrFilePartMissing(part int) Error {
	return badRequest("FILE_PART_" + strconv.Itoa(part) + "_MISSING")
}

// ErrFloodWait is FLOOD_WAIT_X (420): a per-account limit is reached; the
// client should wait X seconds before trying again.
func ErrFloodWait(seconds int) Error {
	return Error{Code: 420, Message: "FLOOD_WAIT_" + strconv.Itoa(max(seconds, 1))}
}

// The engine's flood limits, as metrics name them.
const (
	LimitTempUploads = "temp_uploads_per_account"
	LimitTempBytes   = "temp_bytes_per_account"
	LimitTempBudget  = "temp_budget"
)

// AsError reports whether err is (or wraps) a client-facing Error.
func AsError(err error) (Error, bool) {
	var e Error
	ok := errors.As(err, &e)
	return e, ok
}
