// Package admin serves the operator's API on the --http address: bots are
// added, listed and revoked while the server runs, and the bench takes
// profiles. It translates HTTP to
// the bots service; requests need the admin token and, unless allowed,
// come from this machine.
package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/filedc/filedc/internal/bots"
)

// Handler is the admin API.
type Handler struct {
	Bots  *bots.Service
	Token string // every request carries it as "Authorization: Bearer TOKEN"
	// Remote allows requests from other machines; by default only
	// loopback addresses may manage the server.
	Remote bool

	prof profiler
}

// AddRequest is the body of POST /api/bots.
type AddRequest struct {
	Name string `json:"name"`
}

// TokenAnswer is what adding or revoking a bot answers.
type TokenAnswer struct {
	Bot       *bots.Bot `json:"bot,omitempty"`
	Token     string    `json:"token"`
	LoggedOut int       `json:"logged_out"` // keys logged out by a revocation
}

// ErrorAnswer is the body of every failed request.
type ErrorAnswer struct {
	Error string `json:"error"`
}

// Register adds the API's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/bots", h.guard(h.list))
	mux.Handle("POST /api/bots", h.guard(h.add))
	mux.Handle("POST /api/bots/{id}/revoke", h.guard(h.revoke))
	mux.Handle("POST /api/profile/cpu/start", h.guard(h.startCPU))
	mux.Handle("POST /api/profile/cpu/stop", h.guard(h.stopCPU))
	mux.Handle("GET /api/profile/allocs", h.guard(h.allocs))
	mux.Handle("GET /api/memory", h.guard(h.memory))
}

func (h *Handler) guard(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.Remote && !fromLoopback(r) {
			reply(w, http.StatusForbidden, ErrorAnswer{"the admin API answers this machine only (serve --admin-remote allows others)"})
			return
		}
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || h.Token == "" || subtle.ConstantTimeCompare([]byte(given), []byte(h.Token)) != 1 {
			reply(w, http.StatusUnauthorized, ErrorAnswer{"wrong or missing admin token (serve writes it to DATA/admin.token)"})
			return
		}
		f(w, r)
	})
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.Bots.List(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, list)
}

func (h *Handler) add(w http.ResponseWriter, r *http.Request) {
	var req AddRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, ErrorAnswer{"the body is not {\"name\": NAME}: " + err.Error()})
		return
	}
	bot, token, err := h.Bots.Add(r.Context(), req.Name)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusCreated, TokenAnswer{Bot: &bot, Token: token})
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		reply(w, http.StatusBadRequest, ErrorAnswer{"a bot id is a number"})
		return
	}
	token, n, err := h.Bots.Revoke(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, TokenAnswer{Token: token, LoggedOut: n})
}

func fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, bots.ErrInvalidName):
		reply(w, http.StatusBadRequest, ErrorAnswer{err.Error()})
	case errors.Is(err, bots.ErrNotFound):
		reply(w, http.StatusNotFound, ErrorAnswer{err.Error()})
	default:
		reply(w, http.StatusInternalServerError, ErrorAnswer{err.Error()})
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
