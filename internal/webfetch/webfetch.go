// Package webfetch is the one way filedc reaches out to the web (rule
// M10): media sent by URL (inputMediaPhotoExternal,
// inputMediaDocumentExternal) and, later, map tiles. A client names a URL;
// the server fetches it, so the fetcher must never let a client reach what
// the operator did not allow:
//
//   - only http and https;
//   - private, loopback, link-local, multicast and reserved addresses are
//     refused, checked after DNS resolution on every connection (each
//     redirect too), and the connection goes to the address that was
//     checked, so a name that resolves differently a moment later (DNS
//     rebinding) gains nothing;
//   - at most 5 redirects, a size cap and a time cap;
//   - the operator's allow list (CIDRs and host names) opens addresses the
//     default refuses, the deny list closes ones it allows.
package webfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config says what a fetcher may reach.
type Config struct {
	// Allow and Deny are rules: a CIDR ("10.1.0.0/16"), an address, a host
	// name ("tiles.example.org") or every host under a domain
	// ("*.example.org"). Deny wins over Allow; Allow wins over the default
	// refusal of non-public addresses.
	Allow, Deny []string
	MaxBytes    int64         // default 20 MiB
	Timeout     time.Duration // the whole fetch, redirects included; default 20 s
	UserAgent   string
	// Resolver looks host names up (default net.DefaultResolver).
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// MaxRedirects is the most redirects one fetch follows.
const MaxRedirects = 5

// Errors. Every refusal is an *Error naming its cause; the RPC edge answers
// them as Telegram does (WEBPAGE_CURL_FAILED).
var (
	ErrScheme    = errors.New("webfetch: only http and https URLs")
	ErrAddress   = errors.New("webfetch: the address is not allowed")
	ErrRedirects = errors.New("webfetch: more than 5 redirects")
	ErrTooLarge  = errors.New("webfetch: larger than the size cap")
	ErrStatus    = errors.New("webfetch: the server did not answer 200")
	ErrEmpty     = errors.New("webfetch: empty body")
)

// Result is what a fetch brought back.
type Result struct {
	URL         string // after redirects
	Body        []byte
	ContentType string // sniffed from the bytes, not taken from the server
}

// Fetcher fetches URLs under a Config.
type Fetcher struct {
	cfg         Config
	allow, deny []rule
	client      *http.Client
}

type rule struct {
	prefix netip.Prefix // valid for address rules
	host   string       // exact host, or ".example.org" for a domain
}

func parseRules(in []string) ([]rule, error) {
	var out []rule
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "":
		case strings.Contains(s, "/"):
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("web rule %q: %w", s, err)
			}
			out = append(out, rule{prefix: p.Masked()})
		default:
			if a, err := netip.ParseAddr(s); err == nil {
				out = append(out, rule{prefix: netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())})
				continue
			}
			if strings.HasPrefix(s, "*.") {
				s = s[1:]
			}
			if strings.ContainsAny(s, " :@") || s == "." {
				return nil, fmt.Errorf("web rule %q: want a CIDR, an address, a host name or *.domain", s)
			}
			out = append(out, rule{host: s})
		}
	}
	return out, nil
}

func matches(rules []rule, host string, addr netip.Addr) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range rules {
		switch {
		case r.prefix.IsValid():
			if addr.IsValid() && r.prefix.Contains(addr) {
				return true
			}
		case strings.HasPrefix(r.host, "."):
			if strings.HasSuffix(host, r.host) {
				return true
			}
		case host == r.host:
			return true
		}
	}
	return false
}

// New returns a fetcher, or an error for a malformed rule.
func New(cfg Config) (*Fetcher, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 20 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "filedc"
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	f := &Fetcher{cfg: cfg}
	var err error
	if f.allow, err = parseRules(cfg.Allow); err != nil {
		return nil, err
	}
	if f.deny, err = parseRules(cfg.Deny); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy: nil, // a proxy would connect where it likes
			DialContext: func(ctx context.Context, network, hostport string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(hostport)
				if err != nil {
					return nil, err
				}
				addr, err := f.resolve(ctx, host)
				if err != nil {
					return nil, err
				}
				// The address checked is the address dialled.
				return dialer.DialContext(ctx, "tcp", net.JoinHostPort(addr.String(), port))
			},
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          16,
			IdleConnTimeout:       30 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 15 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return ErrRedirects
			}
			return checkURL(req.URL)
		},
	}
	return f, nil
}

func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return ErrScheme
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: no host", ErrAddress)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("%w: port %q", ErrAddress, p)
		}
	}
	return nil
}

// Allowed reports whether host at addr may be reached.
func (f *Fetcher) Allowed(host string, addr netip.Addr) bool {
	addr = addr.Unmap()
	if matches(f.deny, host, addr) {
		return false
	}
	if matches(f.allow, host, addr) {
		return true
	}
	return public(addr)
}

// resolve returns the first address of host that may be reached, or
// ErrAddress when none may.
func (f *Fetcher) resolve(ctx context.Context, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if !f.Allowed(host, a) {
			return netip.Addr{}, fmt.Errorf("%w: %s", ErrAddress, a)
		}
		return a.Unmap(), nil
	}
	if matches(f.deny, host, netip.Addr{}) {
		return netip.Addr{}, fmt.Errorf("%w: %s", ErrAddress, host)
	}
	addrs, err := f.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		if f.Allowed(host, a) {
			return a.Unmap(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: %s resolves to %v", ErrAddress, host, addrs)
}

// Get fetches rawURL: a 200 answer of at most MaxBytes, within Timeout.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (Result, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrScheme, err)
	}
	if err := checkURL(u); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("%w: %s", ErrStatus, resp.Status)
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return Result{}, ErrTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return Result{}, err
	}
	if int64(len(body)) > f.cfg.MaxBytes {
		return Result{}, ErrTooLarge
	}
	if len(body) == 0 {
		return Result{}, ErrEmpty
	}
	return Result{URL: resp.Request.URL.String(), Body: body, ContentType: http.DetectContentType(body)}, nil
}

// reserved are the ranges that are neither private nor loopback nor
// link-local by netip's tests but are not public either (IANA special
// purpose registries).
var reserved = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
		"2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// public reports whether addr is an ordinary public unicast address.
func public(addr netip.Addr) bool {
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}
