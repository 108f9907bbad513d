package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/filedc/filedc/internal/bots"
)

// TokenFile is where serve keeps the admin token in its data directory, for
// `filedc bot` on the same machine.
const TokenFile = "admin.token"

// LoadOrCreateToken returns the admin token kept in dir, making one the
// first time. The file is readable by its owner only.
func LoadOrCreateToken(dir string) (string, error) {
	path := filepath.Join(dir, TokenFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	return token, nil
}

// ReadToken returns the admin token kept in dir, or "" when there is none.
func ReadToken(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, TokenFile))
	return strings.TrimSpace(string(b))
}

// ErrNoServer means nothing listens at the address: no server runs there.
var ErrNoServer = errors.New("no server answers")

// Client calls the admin API of a running server.
type Client struct {
	Addr  string // the server's --http address, host:port
	Token string
	HTTP  *http.Client
}

// Add creates a bot and returns it with its token.
func (c *Client) Add(ctx context.Context, name string) (bots.Bot, string, error) {
	var ans TokenAnswer
	if err := c.do(ctx, http.MethodPost, "/api/bots", AddRequest{Name: name}, &ans); err != nil {
		return bots.Bot{}, "", err
	}
	if ans.Bot == nil {
		return bots.Bot{}, "", errors.New("the server answered no bot")
	}
	return *ans.Bot, ans.Token, nil
}

// List returns the bots.
func (c *Client) List(ctx context.Context) ([]bots.Bot, error) {
	var list []bots.Bot
	return list, c.do(ctx, http.MethodGet, "/api/bots", nil, &list)
}

// Revoke gives a bot a new token and logs its keys out.
func (c *Client) Revoke(ctx context.Context, id int64) (string, int, error) {
	var ans TokenAnswer
	err := c.do(ctx, http.MethodPost, "/api/bots/"+strconv.FormatInt(id, 10)+"/revoke", nil, &ans)
	return ans.Token, ans.LoggedOut, err
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var payload bytes.Buffer
	if body != nil {
		json.NewEncoder(&payload).Encode(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.Addr+path, &payload)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w at %s", ErrNoServer, c.Addr)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e ErrorAnswer
		if json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error == "" {
			e.Error = resp.Status
		}
		if resp.StatusCode == http.StatusNotFound && strings.HasPrefix(e.Error, "404") {
			e.Error = "the server at " + c.Addr + " has no admin API (is it filedc serve's --http address?)"
		}
		return fmt.Errorf("server at %s: %s", c.Addr, e.Error)
	}
	if raw, ok := out.(*rawBody); ok {
		return raw.readFrom(resp.Body)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
