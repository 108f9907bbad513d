package rpc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	wrap "github.com/filedc/filedc/internal/invoke"
	"github.com/filedc/filedc/internal/mtproto/server"
	"github.com/filedc/filedc/internal/store"
)

// TestS5_RouteTable: every route is filed under its method's constructor id
// and named after it, and only the calls a client makes before it has an
// account (config, login, key binding, the CDNs' public keys) go without one.
func TestS5_RouteTable(t *testing.T) {
	names := tg.NamesMap()
	noLoginWanted := map[string]bool{
		"help.getConfig": true, "help.getNearestDc": true, "auth.importBotAuthorization": true,
		"auth.bindTempAuthKey": true, "auth.sendCode": true, "auth.signIn": true, "auth.signUp": true,
		"auth.importAuthorization": true,
		"help.getCdnConfig":        true, // public keys
	}
	for id, rt := range routes {
		if names[rt.name] != id {
			t.Errorf("route %q filed under %#x, its id is %#x", rt.name, id, names[rt.name])
		}
		if rt.login == noLoginWanted[rt.name] {
			t.Errorf("route %q: needs login %v", rt.name, rt.login)
		}
	}
	h := New(Config{DC: 2})
	anon := &server.Key{}
	for id, rt := range routes {
		if !rt.login {
			continue
		}
		// The login check comes before the request is decoded: an id alone.
		var b bin.Buffer
		b.PutID(id)
		_, err := h.ServeRPC(context.Background(), &server.Request{Key: anon, Body: &b})
		wantRPCError(t, rt.name+" before login", err, 401, "AUTH_KEY_UNREGISTERED")
	}
	var b bin.Buffer
	b.PutID(0x12345678)
	_, err := h.ServeRPC(context.Background(), &server.Request{Key: anon, Body: &b})
	wantRPCError(t, "an unknown method", err, 400, "INPUT_METHOD_INVALID")
	b.Reset()
	b.PutID(tg.HelpGetNearestDCRequestTypeID)
	if _, err := h.ServeRPC(context.Background(), &server.Request{Key: anon, Body: &b}); err != nil {
		t.Errorf("help.getNearestDc: %v", err)
	}
	b.Reset()
	b.PutID(tg.AuthImportBotAuthorizationRequestTypeID)
	_, err = h.ServeRPC(context.Background(), &server.Request{Key: anon, Body: &b})
	wantRPCError(t, "a request that does not decode", err, 400, "INPUT_REQUEST_INVALID")
}

// TestS5_InvokeWithTakeout: account.initTakeoutSession opens a takeout that
// invokeWithTakeout must name; any other id, a finished one included, is
// TAKEOUT_INVALID, and before login AUTH_KEY_UNREGISTERED. Bots have no
// takeout sessions (BOT_METHOD_INVALID).
func TestS5_InvokeWithTakeout(t *testing.T) {
	d := newTestDC(t, 2, "secret")
	ctx := context.Background()
	user := store.Account{ID: 1001, Name: "user", Phone: "9996621234", AccessKey: 5}
	bot := store.Account{ID: 1002, Name: "bot", Bot: true, Secret: "s", AccessKey: 6}
	for _, a := range []store.Account{user, bot} {
		if err := d.meta.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	self := &tg.UsersGetUsersRequest{ID: []tg.InputUserClass{&tg.InputUserSelf{}}}
	with := func(key *server.Key, w wrap.Wrappers, req bin.Encoder) (bin.Encoder, error) {
		var b bin.Buffer
		if err := req.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return d.h.ServeRPC(ctx, &server.Request{Key: key, Body: &b, Invoke: w})
	}
	key := loggedIn(user.ID)
	_, err := with(key, wrap.Wrappers{HasTakeout: true, Takeout: 77}, self)
	wantRPCError(t, "an unknown takeout", err, 400, "TAKEOUT_INVALID")
	_, err = with(&server.Key{}, wrap.Wrappers{HasTakeout: true, Takeout: 77}, &tg.HelpGetConfigRequest{})
	wantRPCError(t, "a takeout before login", err, 401, "AUTH_KEY_UNREGISTERED")
	_, err = with(loggedIn(bot.ID), wrap.Wrappers{}, &tg.AccountInitTakeoutSessionRequest{})
	wantRPCError(t, "a bot's takeout", err, 400, "BOT_METHOD_INVALID")

	res, err := with(key, wrap.Wrappers{}, &tg.AccountInitTakeoutSessionRequest{Files: true, FileMaxSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	id := res.(*tg.AccountTakeout).ID
	res, err = with(key, wrap.Wrappers{HasTakeout: true, Takeout: id}, self)
	if err != nil {
		t.Fatalf("users.getUsers in the takeout: %v", err)
	}
	if u := res.(*tg.UserClassVector).Elems; len(u) != 1 || u[0].(*tg.User).ID != user.ID {
		t.Fatalf("users.getUsers in the takeout: %+v", res)
	}
	// Another account cannot use it.
	_, err = with(loggedIn(bot.ID), wrap.Wrappers{HasTakeout: true, Takeout: id}, self)
	wantRPCError(t, "another account's takeout", err, 400, "TAKEOUT_INVALID")
	if _, err := with(key, wrap.Wrappers{}, &tg.AccountFinishTakeoutSessionRequest{Success: true}); err != nil {
		t.Fatal(err)
	}
	_, err = with(key, wrap.Wrappers{HasTakeout: true, Takeout: id}, self)
	wantRPCError(t, "a finished takeout", err, 400, "TAKEOUT_INVALID")
	_, err = with(key, wrap.Wrappers{}, &tg.AccountFinishTakeoutSessionRequest{})
	wantRPCError(t, "finishing twice", err, 400, "TAKEOUT_INVALID")
}

// TestS5_InvokeWithBusinessConnection: filedc has no business connections,
// so every id is CONNECTION_ID_INVALID; the call does not run.
func TestS5_InvokeWithBusinessConnection(t *testing.T) {
	h := New(Config{DC: 2})
	var b bin.Buffer
	(&tg.HelpGetConfigRequest{}).Encode(&b)
	_, err := h.ServeRPC(context.Background(), &server.Request{Key: loggedIn(1), Body: &b,
		Invoke: wrap.Wrappers{BusinessConnection: "abc"}})
	wantRPCError(t, "invokeWithBusinessConnection", err, 400, "CONNECTION_ID_INVALID")
}

// TestS5_Interceptors: interceptors wrap every call in order, the first
// outermost, see the method's name and the error as the client gets it,
// and can answer in the method's place.
func TestS5_Interceptors(t *testing.T) {
	var seen []string
	record := func(tag string) Interceptor {
		return func(ctx context.Context, method string, next func(context.Context) (bin.Encoder, error)) (bin.Encoder, error) {
			seen = append(seen, tag+" "+method)
			res, err := next(ctx)
			if err != nil {
				seen = append(seen, tag+" "+err.Error())
			}
			return res, err
		}
	}
	fault := func(ctx context.Context, method string, next func(context.Context) (bin.Encoder, error)) (bin.Encoder, error) {
		if method == "help.getNearestDc" {
			return nil, &server.RPCError{Code: 420, Message: "FLOOD_WAIT_3"}
		}
		return next(ctx)
	}
	h := New(Config{DC: 2, Interceptors: []Interceptor{record("outer"), record("inner"), fault}})
	anon := &server.Key{}
	call := func(id uint32) error {
		var b bin.Buffer
		b.PutID(id)
		_, err := h.ServeRPC(context.Background(), &server.Request{Key: anon, Body: &b})
		return err
	}
	wantRPCError(t, "help.getNearestDc under a fault", call(tg.HelpGetNearestDCRequestTypeID), 420, "FLOOD_WAIT_3")
	wantRPCError(t, "upload.getFile before login", call(tg.UploadGetFileRequestTypeID), 401, "AUTH_KEY_UNREGISTERED")
	want := []string{
		"outer help.getNearestDc", "inner help.getNearestDc", "inner FLOOD_WAIT_3", "outer FLOOD_WAIT_3",
		"outer upload.getFile", "inner upload.getFile", "inner AUTH_KEY_UNREGISTERED", "outer AUTH_KEY_UNREGISTERED",
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("interceptors saw %q, want %q", seen, want)
	}
}

// callLog is an Observer that keeps what it saw.
type callLog struct{ seen []string }

func (l *callLog) ObserveCall(method string, _ time.Duration, err error) {
	s := method + " ok"
	if re, ok := err.(*server.RPCError); ok {
		s = fmt.Sprintf("%s %d %s %s", method, re.Code, re.Message, re.Limit)
	}
	l.seen = append(l.seen, s)
}

// TestO3_CallObserver: the Observer sees every call with its route's name
// ("unknown" without one) and the error the client gets, and a FLOOD_WAIT
// names the limit behind it.
func TestO3_CallObserver(t *testing.T) {
	log := &callLog{}
	h := New(Config{DC: 2, Observer: log, Limits: Limits{AnonRate: 1e-9, AnonBurst: 1}})
	anon := &server.Key{}
	call := func(ids ...uint32) {
		var b bin.Buffer
		for _, id := range ids {
			b.PutID(id)
		}
		h.ServeRPC(context.Background(), &server.Request{Key: anon, Body: &b})
	}
	call(tg.HelpGetNearestDCRequestTypeID)
	call(tg.HelpGetNearestDCRequestTypeID)
	call(tg.UploadGetFileRequestTypeID)
	call(0x12345678)
	call()
	want := []string{
		"help.getNearestDc ok",
		"help.getNearestDc 420 FLOOD_WAIT_1000000000 anon_calls",
		"upload.getFile 401 AUTH_KEY_UNREGISTERED ",
		"unknown 400 INPUT_METHOD_INVALID ",
		"unknown 400 INPUT_REQUEST_INVALID ",
	}
	if fmt.Sprint(log.seen) != fmt.Sprint(want) {
		t.Fatalf("observer saw\n%q\nwant\n%q", log.seen, want)
	}
}

func TestIsMethod(t *testing.T) {
	for name, want := range map[string]bool{
		"upload.saveFilePart": true, "upload.getFile": true, "messages.uploadMedia": true,
		"upload.saveFilepart": false, "unknown": false, "": false,
	} {
		if got := IsMethod(name); got != want {
			t.Errorf("IsMethod(%q) = %v, want %v", name, got, want)
		}
	}
}
