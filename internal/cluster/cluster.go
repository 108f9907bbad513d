// Package cluster describes the data centers of one filedc deployment: the
// address of each DC, the key material every DC and process shares, and the
// signed grants that carry a login from one DC to another
// (auth.exportAuthorization / auth.importAuthorization).
//
// Telegram uses one set of RSA keys for all its DCs: a client is built with
// the keys and trusts every DC it is sent to. filedc does the same. A
// cluster directory holds the RSA key (private.pem, published as public.pem)
// and cluster.secret, 32 random bytes from which the file-reference key, the
// server-salt schedule and the key that signs exported authorizations derive.
// `filedc cluster init DIR` creates it once; every process of every DC is
// given a copy with --cluster DIR. Nothing in it is ever rewritten, so copies
// stay equal and concurrent starts cannot race to create different keys.
package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/serverkey"
)

// MaxDC is the largest DC id: file ids carry their DC in 8 bits (randid.InDC).
const MaxDC = 255

// Option is one address of a DC, as `ID=IP:PORT`.
type Option struct {
	DC   int
	Addr netip.AddrPort
}

func (o Option) String() string { return strconv.Itoa(o.DC) + "=" + o.Addr.String() }

// ParseOption parses `ID=IP:PORT` (IPv6 as `ID=[::1]:PORT`). The address is
// an IP literal, as in Telegram's dc_options: clients dial it as given.
func ParseOption(s string) (Option, error) {
	idText, addrText, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return Option{}, fmt.Errorf("dc option %q: want ID=IP:PORT", s)
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id < 1 || id > MaxDC {
		return Option{}, fmt.Errorf("dc option %q: the DC id must be 1..%d", s, MaxDC)
	}
	addr, err := netip.ParseAddrPort(addrText)
	if err != nil || addr.Port() == 0 || addr.Addr().IsUnspecified() {
		return Option{}, fmt.Errorf("dc option %q: want an IP address and a port clients can reach, such as 2=192.0.2.10:443", s)
	}
	return Option{DC: id, Addr: addr}, nil
}

// Map is the DCs of a cluster as one process sees it.
type Map struct {
	Self    int      // this process's DC
	Options []Option // every DC's addresses, this DC included
}

// NewMap builds the map of a process of DC self reachable at listen. A DC
// may have several options (several processes, or IPv4 and IPv6); when no
// option names self, listen is advertised for it (127.0.0.1 when listening
// on all addresses).
func NewMap(self int, listen netip.AddrPort, opts []Option) (Map, error) {
	if self < 1 || self > MaxDC {
		return Map{}, fmt.Errorf("DC %d: a DC id is 1..%d (file ids carry it in 8 bits)", self, MaxDC)
	}
	m := Map{Self: self}
	for _, o := range opts {
		if !slices.Contains(m.Options, o) {
			m.Options = append(m.Options, o)
		}
	}
	if !m.Has(self) {
		if listen.Addr().IsUnspecified() || !listen.Addr().IsValid() {
			listen = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), listen.Port())
		}
		m.Options = append([]Option{{DC: self, Addr: listen}}, m.Options...)
	}
	return m, nil
}

// Has reports whether the cluster has DC id.
func (m Map) Has(id int) bool {
	return slices.ContainsFunc(m.Options, func(o Option) bool { return o.DC == id })
}

// Others reports whether the cluster has DCs besides this one.
func (m Map) Others() bool {
	return slices.ContainsFunc(m.Options, func(o Option) bool { return o.DC != m.Self })
}

// DCOptions returns the options as help.getConfig lists them. All are
// static: clients may keep them without refreshing.
func (m Map) DCOptions() []tg.DCOption {
	out := make([]tg.DCOption, 0, len(m.Options))
	for _, o := range m.Options {
		addr := o.Addr.Addr().Unmap()
		out = append(out, tg.DCOption{ID: o.DC, IPAddress: addr.String(), Port: int(o.Addr.Port()),
			Ipv6: addr.Is6(), Static: true})
	}
	return out
}

// SecretFile is the cluster secret's name in a cluster directory.
const SecretFile = "cluster.secret"

// Keys is what a cluster directory holds.
type Keys struct {
	RSA    serverkey.Key
	Secret []byte // 32 bytes
}

// Init creates a cluster directory: a new RSA key and secret. It refuses a
// directory that has either already.
func Init(dir string) (Keys, error) {
	if _, err := Load(dir); !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			return Keys{}, fmt.Errorf("%s holds a cluster's keys already", dir)
		}
		return Keys{}, err
	}
	if _, err := os.Stat(filepath.Join(dir, SecretFile)); err == nil {
		return Keys{}, fmt.Errorf("%s holds a cluster secret already", dir)
	}
	key, err := serverkey.LoadOrCreate(dir)
	if err != nil {
		return Keys{}, err
	}
	secret, err := serverkey.Secret(dir, SecretFile)
	if err != nil {
		return Keys{}, err
	}
	return Keys{RSA: key, Secret: secret}, nil
}

// Load reads a cluster directory made by Init without writing to it.
func Load(dir string) (Keys, error) {
	key, err := serverkey.Load(dir)
	if err != nil {
		return Keys{}, err
	}
	secret, err := serverkey.ReadSecret(filepath.Join(dir, SecretFile))
	if err != nil {
		return Keys{}, err
	}
	return Keys{RSA: key, Secret: secret}, nil
}

// Derive returns a 32-byte key for one purpose from the cluster secret, so
// that no two uses share a key.
func Derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("filedc cluster key: " + purpose))
	return m.Sum(nil)
}

// Config is help.getConfig of DC this, listing opts.
func Config(this int, opts []tg.DCOption, now time.Time) *tg.Config {
	return &tg.Config{
		Date:                    int(now.Unix()),
		Expires:                 int(now.Add(time.Hour).Unix()),
		ThisDC:                  this,
		DCOptions:               opts,
		DCTxtDomainName:         "localhost",
		ChatSizeMax:             200,
		MegagroupSizeMax:        200000,
		ForwardedCountMax:       100,
		OnlineUpdatePeriodMs:    210000,
		OfflineBlurTimeoutMs:    5000,
		OfflineIdleTimeoutMs:    30000,
		OnlineCloudTimeoutMs:    300000,
		NotifyCloudDelayMs:      30000,
		NotifyDefaultDelayMs:    1500,
		PushChatPeriodMs:        60000,
		PushChatLimit:           2,
		EditTimeLimit:           172800,
		RevokeTimeLimit:         2147483647,
		RevokePmTimeLimit:       2147483647,
		RatingEDecay:            2419200,
		StickersRecentLimit:     200,
		ChannelsReadMediaPeriod: 604800,
		CallReceiveTimeoutMs:    20000,
		CallRingTimeoutMs:       90000,
		CallConnectTimeoutMs:    30000,
		CallPacketTimeoutMs:     10000,
		MeURLPrefix:             "https://t.me/",
		CaptionLengthMax:        1024,
		MessageLengthMax:        4096,
		WebfileDCID:             this,
	}
}
