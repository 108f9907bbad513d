package interop

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"
)

// TestS6_TestPhoneSignUpAndSignIn: gotd's test-account flow signs up a new
// 99966XYYYY number, and a second client signs in to the same account.
func TestS6_TestPhoneSignUpAndSignIn(t *testing.T) {
	srv := startServer(t, "--test-phones")
	var first int64
	for i := 0; i < 2; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		client := srv.client(transport.Intermediate)
		err := client.Run(ctx, func(ctx context.Context) error {
			if err := auth.NewFlow(auth.TestUser("9996621234", 2), auth.SendCodeOptions{}).Run(ctx, client.Auth()); err != nil {
				return err
			}
			self, err := client.Self(ctx)
			if err != nil {
				return err
			}
			if self.Phone != "9996621234" || self.Bot {
				t.Errorf("self %+v", self)
			}
			if i == 0 {
				first = self.ID
			} else if self.ID != first {
				t.Errorf("signed in as %d, signed up as %d", self.ID, first)
			}
			// A wrong code is refused.
			sent, err := client.API().AuthSendCode(ctx, &tg.AuthSendCodeRequest{PhoneNumber: "9996621234", APIID: 1, APIHash: "x", Settings: tg.CodeSettings{}})
			if err != nil {
				return err
			}
			_, err = client.API().AuthSignIn(ctx, &tg.AuthSignInRequest{PhoneNumber: "9996621234",
				PhoneCodeHash: sent.(*tg.AuthSentCode).PhoneCodeHash, PhoneCode: "11111"})
			if !tgerr.Is(err, "PHONE_CODE_INVALID") {
				t.Errorf("wrong code: %v", err)
			}
			return nil
		})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestS6_TestPhonesOffByDefault: without --test-phones no number signs in.
func TestS6_TestPhonesOffByDefault(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := srv.client(transport.Intermediate)
	err := client.Run(ctx, func(ctx context.Context) error {
		_, err := client.API().AuthSendCode(ctx, &tg.AuthSendCodeRequest{PhoneNumber: "9996621234", APIID: 1, APIHash: "x", Settings: tg.CodeSettings{}})
		if !tgerr.Is(err, "PHONE_NUMBER_INVALID") {
			t.Errorf("test phone without the flag: %v, want PHONE_NUMBER_INVALID", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
