package bench

import (
	"context"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// Latencies collects how long the part and chunk calls took as the client
// saw them: saves (upload.saveFilePart, upload.saveBigFilePart) and
// downloads (upload.getFile). As a gotd middleware it times a client's
// calls; a crowd's clients record into one directly. Failed calls are not
// counted. It is safe for concurrent use.
type Latencies struct {
	mu        sync.Mutex
	save, get []time.Duration
}

// Handle implements telegram.Middleware.
func (l *Latencies) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		var save bool
		switch input.(type) {
		case *tg.UploadSaveFilePartRequest, *tg.UploadSaveBigFilePartRequest:
			save = true
		case *tg.UploadGetFileRequest:
		default:
			return next.Invoke(ctx, input, output)
		}
		start := time.Now()
		err := next.Invoke(ctx, input, output)
		if err == nil {
			l.record(save, time.Since(start))
		}
		return err
	}
}

// record adds one call that took d: a save or a download.
func (l *Latencies) record(save bool, d time.Duration) {
	l.mu.Lock()
	if save {
		l.save = append(l.save, d)
	} else {
		l.get = append(l.get, d)
	}
	l.mu.Unlock()
}

// Counts returns how many save and download calls were answered so far.
func (l *Latencies) Counts() (saves, gets int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.save), len(l.get)
}

// Reset forgets the calls recorded so far.
func (l *Latencies) Reset() {
	l.mu.Lock()
	l.save, l.get = nil, nil
	l.mu.Unlock()
}

// Take returns the calls recorded so far and forgets them.
func (l *Latencies) Take() (save, get []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	save, get = l.save, l.get
	l.save, l.get = nil, nil
	return save, get
}
