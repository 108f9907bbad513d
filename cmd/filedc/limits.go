package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/rpc"
)

// limitFlags are the bounds on what clients make the server hold (S7a).
func limitFlags(f *pflag.FlagSet, l *server.Limits) {
	f.IntVar(&l.MaxConnsPerIP, "max-conns-per-ip", 256, "open connections from one address (an IPv6 /64, an IPv4 --ipv4-prefix); more get transport error -429")
	f.IntVar(&l.IPv4Prefix, "ipv4-prefix", 32, "IPv4 prefix length counted as one address by --max-conns-per-ip")
	f.IntVar(&l.MaxCallsPerConn, "max-calls-per-conn", 64, "calls running at once on one connection; past it the connection is not read until one ends")
	f.IntVar(&l.MaxCallsPerSession, "max-calls-per-session", 32, "calls running at once in one session")
	f.IntVar(&l.MaxSessionsPerKey, "max-sessions-per-key", 64, "sessions kept per auth key; the least recently used is evicted first")
	f.DurationVar(&l.SessionIdle, "session-idle", 30*time.Minute, "sessions unused this long are evicted")
	f.Int64Var(&l.FrameBudget, "frame-budget", 256<<20, "bytes of incoming frames still arriving, over all connections; past it the slowest connections are dropped")
	f.Float64Var(&l.KeyExchangeRate, "key-exchange-rate", 2, "key exchanges one address may start per second, past its burst; more get transport error -429")
	f.IntVar(&l.KeyExchangeBurst, "key-exchange-burst", 60, "key exchanges one address may start at once")
	f.Float64Var(&l.NewKeysPerHour, "new-keys-per-hour", 200, "auth keys one address may create per hour, past its burst; more key exchanges get transport error -429")
	f.IntVar(&l.NewKeysBurst, "new-keys-burst", 200, "auth keys one address may create at once")
	f.DurationVar(&l.UnusedKeyTTL, "unused-key-ttl", 24*time.Hour, "auth keys no account logged in on are deleted after this long unused (the client makes a new one)")
	f.DurationVar(&l.IdleTimeout, "idle-timeout", 2*time.Minute, "a connection that sends nothing this long is closed (clients ping every minute)")
	f.DurationVar(&l.WriteTimeout, "write-timeout", time.Minute, "a connection that does not take an answer within this long is closed")
}

// callLimitFlags are the flood limits of calls (S7c), answered FLOOD_WAIT_X.
func callLimitFlags(f *pflag.FlagSet, l *rpc.Limits) {
	f.Float64Var(&l.RequestRate, "request-rate", 1000, "calls one account may make per second, past its burst")
	f.IntVar(&l.RequestBurst, "request-burst", 2000, "calls one account may make at once")
	f.Float64Var(&l.AnonRate, "anon-rate", 10, "calls one auth key may make per second before login, past its burst")
	f.IntVar(&l.AnonBurst, "anon-burst", 100, "calls one auth key may make at once before login")
	f.Float64Var(&l.BotLoginFailRate, "bot-login-fail-rate", 0.1, "wrong bot tokens per second allowed from one address and for one bot, past the burst")
	f.IntVar(&l.BotLoginFailBurst, "bot-login-fail-burst", 10, "wrong bot tokens allowed at once from one address and for one bot")
	f.Float64Var(&l.ProbeRate, "probe-rate", 1, "video and audio documents one account may have probed per second (ffprobe, ffmpeg), past its burst")
	f.IntVar(&l.ProbeBurst, "probe-burst", 30, "video and audio documents one account may have probed at once")
}
