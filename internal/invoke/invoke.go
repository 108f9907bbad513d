// Package invoke reads the wrappers a client puts around an API call
// (invokeWithLayer, initConnection, invokeAfterMsg and the others): the one
// place they are unwrapped (rule S5). The wrappers are the same in every
// layer from 133 on, so they are read before the call is translated to the
// server's layer; what they ask for travels with the call as Wrappers.
package invoke

import (
	"errors"
	"fmt"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// MaxDepth bounds how many wrappers one call may carry. Real clients send
// at most four (TDLib: invokeAfterMsg, invokeWithLayer, initConnection,
// invokeWithoutUpdates).
const MaxDepth = 16

// MaxAfterMsgs bounds invokeAfterMsgs' list: a call waits on each.
const MaxAfterMsgs = 64

// Wrappers is what a call's wrappers ask for.
type Wrappers struct {
	// Layer is the layer declared with invokeWithLayer (the innermost one
	// when there are several), 0 if none.
	Layer int
	// Init is the client's initConnection, nil if none.
	Init *Init
	// AfterMsgs are the msg_ids the call must wait for
	// (invokeAfterMsg, invokeAfterMsgs).
	AfterMsgs []int64
	// Takeout is the takeout session of invokeWithTakeout, 0 if none
	// (HasTakeout tells a zero id apart).
	Takeout    int64
	HasTakeout bool
	// BusinessConnection is invokeWithBusinessConnection's id, "" if none.
	BusinessConnection string
	// WithoutUpdates, MessagesRange, Integrity (invokeWithGooglePlayIntegrity,
	// invokeWithApnsSecret, invokeWithReCaptcha) pass through: filedc pushes
	// no updates and asks no client for verification.
	WithoutUpdates bool
	MessagesRange  *tg.MessageRange
	Integrity      bool
	// Names lists the wrappers in the order they came, outermost first.
	Names []string
}

// Init is what initConnection says about the client.
type Init struct {
	APIID          int
	DeviceModel    string
	SystemVersion  string
	AppVersion     string
	SystemLangCode string
	LangPack       string
	LangCode       string
}

// ErrTooDeep means a call nests more than MaxDepth wrappers.
var ErrTooDeep = errors.New("invoke: too many wrappers")

// rest captures the wrapped query: it is always a wrapper's last field.
type rest struct{ buf []byte }

func (r *rest) Decode(b *bin.Buffer) error {
	if b.Len() < 4 {
		return errors.New("invoke: no query inside the wrapper")
	}
	r.buf = b.Buf
	b.Buf = b.Buf[len(b.Buf):]
	return nil
}

func (r *rest) Encode(*bin.Buffer) error {
	return errors.New("invoke: a wrapped query is not re-encoded")
}

// Unwrap reads the wrappers at the start of body and returns them with the
// call inside, a subslice of body (nothing is copied). A body with no
// wrapper comes back as it is.
func Unwrap(body []byte) (Wrappers, []byte, error) {
	var w Wrappers
	for depth := 0; ; depth++ {
		b := &bin.Buffer{Buf: body}
		id, err := b.PeekID()
		if err != nil {
			return w, nil, err
		}
		var q rest
		var name string
		switch id {
		case tg.InvokeWithLayerRequestTypeID:
			req := tg.InvokeWithLayerRequest{Query: &q}
			err = req.Decode(b)
			if req.Layer > 0 {
				w.Layer = req.Layer
			}
			name = "invokeWithLayer"
		case tg.InitConnectionRequestTypeID:
			req := tg.InitConnectionRequest{Query: &q}
			if err = req.Decode(b); err == nil {
				w.Init = &Init{APIID: req.APIID, DeviceModel: req.DeviceModel, SystemVersion: req.SystemVersion,
					AppVersion: req.AppVersion, SystemLangCode: req.SystemLangCode, LangPack: req.LangPack, LangCode: req.LangCode}
			}
			name = "initConnection"
		case tg.InvokeWithoutUpdatesRequestTypeID:
			req := tg.InvokeWithoutUpdatesRequest{Query: &q}
			err = req.Decode(b)
			w.WithoutUpdates = true
			name = "invokeWithoutUpdates"
		case tg.InvokeAfterMsgRequestTypeID:
			req := tg.InvokeAfterMsgRequest{Query: &q}
			if err = req.Decode(b); err == nil {
				w.AfterMsgs = append(w.AfterMsgs, req.MsgID)
			}
			name = "invokeAfterMsg"
		case tg.InvokeAfterMsgsRequestTypeID:
			// The vector's length is checked before anything is allocated.
			if n, lerr := afterMsgsLen(body); lerr != nil || n > MaxAfterMsgs {
				return w, nil, fmt.Errorf("invoke: invokeAfterMsgs with %d msg_ids (at most %d)", n, MaxAfterMsgs)
			}
			req := tg.InvokeAfterMsgsRequest{Query: &q}
			if err = req.Decode(b); err == nil {
				w.AfterMsgs = append(w.AfterMsgs, req.MsgIDs...)
			}
			name = "invokeAfterMsgs"
		case tg.InvokeWithMessagesRangeRequestTypeID:
			req := tg.InvokeWithMessagesRangeRequest{Query: &q}
			if err = req.Decode(b); err == nil {
				w.MessagesRange = &req.Range
			}
			name = "invokeWithMessagesRange"
		case tg.InvokeWithTakeoutRequestTypeID:
			req := tg.InvokeWithTakeoutRequest{Query: &q}
			if err = req.Decode(b); err == nil {
				w.Takeout, w.HasTakeout = req.TakeoutID, true
			}
			name = "invokeWithTakeout"
		case tg.InvokeWithBusinessConnectionRequestTypeID:
			req := tg.InvokeWithBusinessConnectionRequest{Query: &q}
			if err = req.Decode(b); err == nil {
				w.BusinessConnection = req.ConnectionID
			}
			name = "invokeWithBusinessConnection"
		case tg.InvokeWithGooglePlayIntegrityRequestTypeID:
			req := tg.InvokeWithGooglePlayIntegrityRequest{Query: &q}
			err = req.Decode(b)
			w.Integrity = true
			name = "invokeWithGooglePlayIntegrity"
		case tg.InvokeWithApnsSecretRequestTypeID:
			req := tg.InvokeWithApnsSecretRequest{Query: &q}
			err = req.Decode(b)
			w.Integrity = true
			name = "invokeWithApnsSecret"
		case tg.InvokeWithReCaptchaRequestTypeID:
			req := tg.InvokeWithReCaptchaRequest{Query: &q}
			err = req.Decode(b)
			w.Integrity = true
			name = "invokeWithReCaptcha"
		default:
			return w, body, nil
		}
		if err != nil {
			return w, nil, fmt.Errorf("invoke: %s: %w", name, err)
		}
		if depth == MaxDepth {
			return w, nil, ErrTooDeep
		}
		w.Names = append(w.Names, name)
		body = q.buf
	}
}

// Merge adds the wrappers inner found inside w's query (after a
// gzip_packed): inner's layer and takeout win, as inner wrappers do.
func (w Wrappers) Merge(inner Wrappers) Wrappers {
	if inner.Layer != 0 {
		w.Layer = inner.Layer
	}
	if inner.Init != nil {
		w.Init = inner.Init
	}
	w.AfterMsgs = append(w.AfterMsgs, inner.AfterMsgs...)
	if inner.HasTakeout {
		w.Takeout, w.HasTakeout = inner.Takeout, true
	}
	if inner.BusinessConnection != "" {
		w.BusinessConnection = inner.BusinessConnection
	}
	if inner.MessagesRange != nil {
		w.MessagesRange = inner.MessagesRange
	}
	w.WithoutUpdates = w.WithoutUpdates || inner.WithoutUpdates
	w.Integrity = w.Integrity || inner.Integrity
	w.Names = append(w.Names, inner.Names...)
	return w
}

// afterMsgsLen reads the length of invokeAfterMsgs' msg_ids vector.
func afterMsgsLen(body []byte) (int, error) {
	b := &bin.Buffer{Buf: body[4:]}
	if err := b.ConsumeID(bin.TypeVector); err != nil {
		return 0, err
	}
	n, err := b.Int()
	if n < 0 {
		return n, errors.New("invoke: negative vector length")
	}
	return n, err
}
