package session

import (
	"testing"
	"time"
)

func TestS3_SaltsScheduleSharedBySecret(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a, b := NewSalts(secret), NewSalts(secret)
	other := NewSalts([]byte("another secret, another schedule"))
	now := time.Unix(1_800_000_000, 0)
	if a.Current(now) != b.Current(now) {
		t.Fatal("two processes with one secret disagree on the salt")
	}
	if a.Current(now) == other.Current(now) {
		t.Fatal("different secrets gave the same salt")
	}
	cur := a.Current(now)
	if !a.Valid(cur, now) || !a.Valid(cur, now.Add(SaltWindow)) {
		t.Fatal("a salt is not accepted in its window and the next")
	}
	if a.Valid(cur, now.Add(2*SaltWindow)) {
		t.Fatal("a salt is still accepted two windows later")
	}
	if a.Valid(cur+1, now) {
		t.Fatal("a wrong salt was accepted")
	}
	if a.Current(now.Add(SaltWindow)) == cur {
		t.Fatal("the salt did not change with the window")
	}
}

func TestS3_FutureSalts(t *testing.T) {
	s := NewSalts([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	fs := s.Future(now, 3)
	if len(fs) != 3 || fs[0].Salt != s.Current(now) {
		t.Fatalf("%d future salts, first %d, want 3 starting with the current", len(fs), fs[0].Salt)
	}
	for i, f := range fs {
		since := time.Unix(int64(f.ValidSince), 0)
		if !s.Valid(f.Salt, since) || !s.Valid(f.Salt, time.Unix(int64(f.ValidUntil)-1, 0)) {
			t.Fatalf("future salt %d is not valid over its advertised range", i)
		}
		if i > 0 && f.ValidSince <= fs[i-1].ValidSince {
			t.Fatal("future salts are not in order")
		}
	}
	if n := len(s.Future(now, 1000)); n != 64 {
		t.Fatalf("%d future salts, want at most 64", n)
	}
}

func TestS3_ClientMsgID(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	id := func(at time.Time, low int64) int64 { return at.Unix()<<32 | low }
	cases := []struct {
		id   int64
		want int
	}{
		{id(now, 4), 0},
		{id(now.Add(-299*time.Second), 0), 0},
		{id(now.Add(29*time.Second), 8), 0},
		{id(now, 1), BadMsgIDLowBits},
		{id(now, 2), BadMsgIDLowBits},
		{id(now.Add(-301*time.Second), 0), BadMsgIDTooLow},
		{id(now.Add(31*time.Second), 0), BadMsgIDTooHigh},
	}
	for _, tc := range cases {
		if got := CheckClientMsgID(tc.id, now); got != tc.want {
			t.Errorf("msg_id %#x: %d, want %d", tc.id, got, tc.want)
		}
	}
}

func TestS3_SeqNoParity(t *testing.T) {
	for _, tc := range []struct {
		seq     int32
		content bool
		want    int
	}{
		{1, true, 0}, {2, false, 0}, {0, false, 0},
		{2, true, BadMsgSeqNoOdd}, {3, false, BadMsgSeqNoEven}, {-1, true, BadMsgSeqNoTooLow},
	} {
		if got := CheckSeqNo(tc.seq, tc.content); got != tc.want {
			t.Errorf("seqno %d content=%v: %d, want %d", tc.seq, tc.content, got, tc.want)
		}
	}
}
