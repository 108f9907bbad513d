package interop

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"
)

// rawClient speaks MTProto with nothing of a client library around it: the
// attacks need sessions, keys and connections in numbers and shapes that no
// library makes.
type rawClient struct {
	raw     net.Conn
	conn    transport.Conn
	key     crypto.AuthKey
	salt    int64
	session int64
	seq     int32
	ids     *proto.MessageIDGen
	cipher  crypto.Cipher
}

// dialRaw connects over the intermediate transport and makes a new auth key.
func dialRaw(ctx context.Context, srv *dc) (*rawClient, error) {
	c, err := dialRawNoKey(srv)
	if err != nil {
		return nil, err
	}
	res, err := exchange.NewExchanger(c.conn, 2).Client([]exchange.PublicKey{{RSA: srv.key}}).Run(ctx)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("key exchange: %w", err)
	}
	c.key, c.salt, c.session = res.AuthKey, res.ServerSalt, res.SessionID
	return c, nil
}

// dialRawWith connects with the key of another client, in a new session.
func dialRawWith(srv *dc, other *rawClient, session int64) (*rawClient, error) {
	c, err := dialRawNoKey(srv)
	if err != nil {
		return nil, err
	}
	c.key, c.salt, c.session = other.key, other.salt, session
	return c, nil
}

func dialRawNoKey(srv *dc) (*rawClient, error) {
	raw, err := net.Dial("tcp", srv.addr.String())
	if err != nil {
		return nil, err
	}
	conn, err := transport.Intermediate.Handshake(raw)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &rawClient{raw: raw, conn: conn, ids: proto.NewMessageIDGen(time.Now), cipher: crypto.NewClientCipher(rand.Reader)}, nil
}

func (c *rawClient) Close() error { return c.raw.Close() }

// send sends body as a content message of session and returns its msg_id.
func (c *rawClient) send(ctx context.Context, session int64, body bin.Encoder) (int64, error) {
	id := c.ids.New(proto.MessageFromClient)
	c.seq++
	var b bin.Buffer
	err := c.cipher.Encrypt(c.key, crypto.EncryptedMessageData{
		Salt: c.salt, SessionID: session, MessageID: id, SeqNo: 2*c.seq - 1, Message: body,
	}, &b)
	if err != nil {
		return 0, err
	}
	return id, c.conn.Send(ctx, &b)
}

// recv reads and decrypts the next message.
func (c *rawClient) recv(ctx context.Context) (*crypto.EncryptedMessageData, error) {
	var b bin.Buffer
	if err := c.conn.Recv(ctx, &b); err != nil {
		return nil, err
	}
	return c.cipher.DecryptFromBuffer(c.key, &b)
}

// call sends body in the client's session and returns the result of the
// call, its type id first; an rpc_error comes back as an error.
func (c *rawClient) call(ctx context.Context, body bin.Encoder) (*bin.Buffer, error) {
	reqID, err := c.send(ctx, c.session, body)
	if err != nil {
		return nil, err
	}
	for {
		msg, err := c.recv(ctx)
		if err != nil {
			return nil, err
		}
		res, resend, err := c.find(&bin.Buffer{Buf: msg.Data()}, reqID)
		if err != nil || res != nil {
			return res, err
		}
		if resend {
			if reqID, err = c.send(ctx, c.session, body); err != nil {
				return nil, err
			}
		}
	}
}

// find looks for the result of reqID in one message, unpacking containers;
// resend reports a bad_server_salt, after which the call goes again.
func (c *rawClient) find(b *bin.Buffer, reqID int64) (res *bin.Buffer, resend bool, err error) {
	id, err := b.PeekID()
	if err != nil {
		return nil, false, err
	}
	switch id {
	case proto.MessageContainerTypeID:
		var cont proto.MessageContainer
		if err := cont.Decode(b); err != nil {
			return nil, false, err
		}
		for _, m := range cont.Messages {
			res, again, err := c.find(&bin.Buffer{Buf: m.Body}, reqID)
			resend = resend || again
			if err != nil || res != nil {
				return res, resend, err
			}
		}
		return nil, resend, nil
	case mt.BadServerSaltTypeID:
		var bad mt.BadServerSalt
		if err := bad.Decode(b); err != nil {
			return nil, false, err
		}
		c.salt = bad.NewServerSalt
		return nil, bad.BadMsgID == reqID, nil
	case proto.ResultTypeID:
		var r proto.Result
		if err := r.Decode(b); err != nil {
			return nil, false, err
		}
		if r.RequestMessageID != reqID {
			return nil, false, nil
		}
		out := &bin.Buffer{Buf: r.Result}
		if rid, _ := out.PeekID(); rid == proto.GZIPTypeID {
			var g proto.GZIP
			if err := g.Decode(out); err != nil {
				return nil, false, err
			}
			out = &bin.Buffer{Buf: g.Data}
		}
		if rid, _ := out.PeekID(); rid == mt.RPCErrorTypeID {
			var e mt.RPCError
			if err := e.Decode(out); err != nil {
				return nil, false, err
			}
			return nil, false, fmt.Errorf("rpc error %d %s", e.ErrorCode, e.ErrorMessage)
		}
		return out, false, nil
	}
	return nil, false, nil
}

// ping calls ping in the client's session and waits for its pong.
func (c *rawClient) ping(ctx context.Context) error {
	return c.pingIn(ctx, c.session)
}

// pingIn pings in session, sending again after a bad_server_salt.
func (c *rawClient) pingIn(ctx context.Context, session int64) error {
	pingID := int64(time.Now().UnixNano())
	if _, err := c.send(ctx, session, &mt.PingRequest{PingID: pingID}); err != nil {
		return err
	}
	for {
		msg, err := c.recv(ctx)
		if err != nil {
			return err
		}
		pong, resend := c.hasPong(&bin.Buffer{Buf: msg.Data()}, pingID)
		if pong {
			return nil
		}
		if resend {
			if _, err := c.send(ctx, session, &mt.PingRequest{PingID: pingID}); err != nil {
				return err
			}
		}
	}
}

func (c *rawClient) hasPong(b *bin.Buffer, pingID int64) (pong, resend bool) {
	id, _ := b.PeekID()
	switch id {
	case proto.MessageContainerTypeID:
		var cont proto.MessageContainer
		if cont.Decode(b) != nil {
			return false, false
		}
		for _, m := range cont.Messages {
			p, r := c.hasPong(&bin.Buffer{Buf: m.Body}, pingID)
			pong, resend = pong || p, resend || r
		}
	case mt.PongTypeID:
		var p mt.Pong
		return p.Decode(b) == nil && p.PingID == pingID, false
	case mt.BadServerSaltTypeID:
		var bad mt.BadServerSalt
		if bad.Decode(b) == nil {
			c.salt = bad.NewServerSalt
			return false, true
		}
	}
	return pong, resend
}

// loginBot logs the key in as the bot of token, as a client's first call.
func (c *rawClient) loginBot(ctx context.Context, token string) error {
	res, err := c.call(ctx, &tg.InvokeWithLayerRequest{Layer: tg.Layer, Query: &tg.InitConnectionRequest{
		APIID: 1, DeviceModel: "raw", SystemVersion: "test", AppVersion: "1", SystemLangCode: "en", LangCode: "en",
		Query: &tg.AuthImportBotAuthorizationRequest{APIID: 1, APIHash: "raw", BotAuthToken: token},
	}})
	if err != nil {
		return err
	}
	if id, _ := res.PeekID(); id != tg.AuthAuthorizationTypeID {
		return fmt.Errorf("bot login answered %#x", id)
	}
	return nil
}
