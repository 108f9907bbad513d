package cluster

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseOption(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for an error
	}{
		{"2=127.0.0.1:4430", "2=127.0.0.1:4430"},
		{" 1=192.0.2.10:443 ", "1=192.0.2.10:443"},
		{"3=[::1]:443", "3=[::1]:443"},
		{"255=10.0.0.1:1", "255=10.0.0.1:1"},
		{"0=127.0.0.1:1", ""},
		{"256=127.0.0.1:1", ""},
		{"-1=127.0.0.1:1", ""},
		{"x=127.0.0.1:1", ""},
		{"2:127.0.0.1:1", ""},
		{"2=localhost:443", ""},   // an IP literal, as dc_options carry
		{"2=127.0.0.1", ""},       // no port
		{"2=127.0.0.1:0", ""},     // port 0
		{"2=0.0.0.0:443", ""},     // not reachable
		{"2=127.0.0.1:70000", ""}, // port out of range
	} {
		o, err := ParseOption(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseOption(%q) = %v, want an error", tc.in, o)
			}
			continue
		}
		if err != nil || o.String() != tc.want {
			t.Errorf("ParseOption(%q) = %v, %v; want %s", tc.in, o, err, tc.want)
		}
	}
}

func TestNewMap(t *testing.T) {
	listen := netip.MustParseAddrPort("0.0.0.0:4430")
	m, err := NewMap(2, listen, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Options) != 1 || m.Options[0].String() != "2=127.0.0.1:4430" || m.Others() {
		t.Fatalf("alone: %v", m.Options)
	}
	one := Option{DC: 1, Addr: netip.MustParseAddrPort("127.0.0.1:5000")}
	two := Option{DC: 2, Addr: netip.MustParseAddrPort("127.0.0.1:6000")}
	six := Option{DC: 1, Addr: netip.MustParseAddrPort("[::1]:5000")}
	m, err = NewMap(2, listen, []Option{one, two, one, six})
	if err != nil {
		t.Fatal(err)
	}
	// An option for DC 2 replaces the listen address; duplicates go.
	if len(m.Options) != 3 || !m.Has(1) || !m.Has(2) || m.Has(3) || !m.Others() {
		t.Fatalf("options %v", m.Options)
	}
	dcs := m.DCOptions()
	if dcs[0].ID != 1 || dcs[0].IPAddress != "127.0.0.1" || dcs[0].Port != 5000 || !dcs[0].Static || dcs[0].Ipv6 {
		t.Fatalf("dc option %+v", dcs[0])
	}
	if dcs[2].IPAddress != "::1" || !dcs[2].Ipv6 {
		t.Fatalf("IPv6 option %+v", dcs[2])
	}
	// Without an option of its own, DC 3 advertises where it listens.
	m, _ = NewMap(3, netip.MustParseAddrPort("127.0.0.2:7000"), []Option{one})
	if m.Options[0].String() != "3=127.0.0.2:7000" {
		t.Fatalf("self option %v", m.Options)
	}
	for _, bad := range []int{0, 256} {
		if _, err := NewMap(bad, listen, nil); err == nil {
			t.Fatalf("NewMap(%d) accepted", bad)
		}
	}
}

func TestInitLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of an empty dir: %v", err)
	}
	made, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir); err == nil {
		t.Fatal("Init ran twice on one directory")
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.RSA.Fingerprint != made.RSA.Fingerprint || !bytes.Equal(got.Secret, made.Secret) || len(got.Secret) != 32 {
		t.Fatal("Load differs from Init")
	}
	if _, err := os.Stat(filepath.Join(dir, "public.pem")); err != nil {
		t.Fatal("no public.pem:", err)
	}
	// A copy of the directory is the same cluster.
	cp := t.TempDir()
	for _, name := range []string{"private.pem", SecretFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(cp, name), b, 0o600)
	}
	if c, err := Load(cp); err != nil || c.RSA.Fingerprint != made.RSA.Fingerprint || !bytes.Equal(c.Secret, made.Secret) {
		t.Fatalf("copy: %v", err)
	}
	if bytes.Equal(Derive(made.Secret, "a"), Derive(made.Secret, "b")) || len(Derive(made.Secret, "a")) != 32 {
		t.Fatal("Derive gives one key for two purposes")
	}
}

func testGrant(now time.Time) Grant {
	return Grant{From: 1, To: 2, User: 7000001, Expires: now.Add(time.Minute), Nonce: NewNonce(),
		Bot: true, AccessKey: -42, Name: "bot", Username: "bot_bot", Phone: ""}
}

func TestGrantRoundtrip(t *testing.T) {
	key := Derive([]byte("0123456789abcdef0123456789abcdef"), "export")
	now := time.Unix(1_700_000_000, 0)
	g := testGrant(now)
	g.Premium = true
	g.Phone = "9996621234"
	b, err := Seal(key, g)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(key, b, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	if got != g {
		t.Fatalf("opened %+v, sealed %+v", got, g)
	}
	bad := func(name string, key, b []byte, to int, now time.Time) {
		t.Helper()
		if _, err := Open(key, b, to, now); !errors.Is(err, ErrGrantInvalid) {
			t.Errorf("%s: %v, want ErrGrantInvalid", name, err)
		}
	}
	bad("other DC", key, b, 3, now)
	bad("expired", key, b, 2, now.Add(time.Minute))
	bad("other key", Derive([]byte("x"), "export"), b, 2, now)
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 1
		bad("flipped byte", key, c, 2, now)
	}
	bad("truncated", key, b[:len(b)-1], 2, now)
	bad("empty", key, nil, 2, now)
	bad("too long", key, make([]byte, MaxGrantSize+1), 2, now)
	if _, err := Seal(key, Grant{From: 0, To: 2, User: 1}); err == nil {
		t.Error("sealed a grant from DC 0")
	}
	long := testGrant(now)
	long.Name = string(make([]byte, maxGrantField+1))
	if _, err := Seal(key, long); err == nil {
		t.Error("sealed an oversized field")
	}
}

// FuzzOpenGrant feeds arbitrary bytes to Open: it must refuse them without
// panicking, and whatever it accepts must seal back to the same bytes.
func FuzzOpenGrant(f *testing.F) {
	key := Derive([]byte("fuzz"), "export")
	now := time.Unix(1_700_000_000, 0)
	b, _ := Seal(key, testGrant(now))
	f.Add(b)
	f.Add([]byte{})
	f.Add(make([]byte, grantFixed+6+grantMAC))
	f.Fuzz(func(t *testing.T, in []byte) {
		g, err := Open(key, in, 2, now)
		if err != nil {
			return
		}
		out, err := Seal(key, g)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("accepted %x but it seals to %x (%v)", in, out, err)
		}
	})
}
