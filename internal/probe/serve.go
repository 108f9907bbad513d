package probe

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"time"
)

// serve makes src readable at a loopback URL until stop is called. The path
// is random, so that another local process cannot guess it during the call,
// and the server answers that path only, with range requests so that the
// tools can seek (an MP4 may keep its index at the end).
func serve(src Source) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var token [16]byte
	rand.Read(token[:])
	path := "/" + hex.EncodeToString(token[:])
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(src.R, 0, src.Size))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + path, func() { srv.Close() }, nil
}
