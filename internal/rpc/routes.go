package rpc

import (
	"context"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/limit"
	"github.com/filedc/filedc/internal/mtproto/server"
)

// A route is one API method: its name, whether it needs a logged-in
// account, and how to serve it. Every call goes through serve, the one
// place where logins, rate limits (and later metrics) apply, in the manner
// of grpc-go's MethodDesc with interceptors.
type route struct {
	name  string
	login bool // needs a logged-in account, within its request rate
	serve func(h *Handler, ctx context.Context, c *call) (bin.Encoder, error)
}

// method adapts a handler taking its decoded request: one generic decoder
// for every method.
func method[Req any, P interface {
	*Req
	bin.Decoder
	TypeName() string
}](login bool, f func(*Handler, context.Context, *call, P) (bin.Encoder, error)) route {
	return route{name: P(new(Req)).TypeName(), login: login, serve: func(h *Handler, ctx context.Context, c *call) (bin.Encoder, error) {
		req := P(new(Req))
		if err := req.Decode(c.Body); err != nil {
			return nil, errInputRequest
		}
		return f(h, ctx, c, req)
	}}
}

const (
	noLogin    = false // answered before login
	needsLogin = true
)

// routes maps a method's constructor id (in the server's layer) to its route.
var routes = map[uint32]route{
	// help.*: the DC itself.
	tg.HelpGetConfigRequestTypeID: method(noLogin, func(h *Handler, _ context.Context, _ *call, _ *tg.HelpGetConfigRequest) (bin.Encoder, error) {
		return h.config(), nil
	}),
	tg.HelpGetNearestDCRequestTypeID: method(noLogin, func(h *Handler, _ context.Context, _ *call, _ *tg.HelpGetNearestDCRequest) (bin.Encoder, error) {
		return &tg.NearestDC{Country: "XX", ThisDC: h.cfg.DC, NearestDC: h.cfg.DC}, nil
	}),

	// auth.*: logging in, keys, other DCs.
	tg.AuthImportBotAuthorizationRequestTypeID: method(noLogin, (*Handler).importBotAuthorization),
	tg.AuthBindTempAuthKeyRequestTypeID:        method(noLogin, (*Handler).bindTempAuthKey),
	tg.AuthSendCodeRequestTypeID:               method(noLogin, (*Handler).sendCode),
	tg.AuthSignInRequestTypeID:                 method(noLogin, (*Handler).signIn),
	tg.AuthSignUpRequestTypeID:                 method(noLogin, (*Handler).signUp),
	tg.AuthImportAuthorizationRequestTypeID:    method(noLogin, (*Handler).importAuthorization),
	tg.AuthExportAuthorizationRequestTypeID:    method(needsLogin, (*Handler).exportAuthorization),

	// account.*: takeout sessions (invokeWithTakeout).
	tg.AccountInitTakeoutSessionRequestTypeID:   method(needsLogin, (*Handler).initTakeoutSession),
	tg.AccountFinishTakeoutSessionRequestTypeID: method(needsLogin, (*Handler).finishTakeoutSession),

	// users.*, updates.*
	tg.UsersGetUsersRequestTypeID: method(needsLogin, (*Handler).getUsers),
	tg.UpdatesGetStateRequestTypeID: method(needsLogin, func(h *Handler, ctx context.Context, c *call, _ *tg.UpdatesGetStateRequest) (bin.Encoder, error) {
		return h.updatesState(ctx, c)
	}),

	// upload.*: parts in, ranges out. Saving parts decodes without copying.
	tg.UploadSaveFilePartRequestTypeID:    savePartRoute("upload.saveFilePart"),
	tg.UploadSaveBigFilePartRequestTypeID: savePartRoute("upload.saveBigFilePart"),
	tg.UploadGetFileRequestTypeID:         getFileRoute(),
	tg.UploadGetFileHashesRequestTypeID:   method(needsLogin, (*Handler).getFileHashes),

	// Web files: map previews (M10).
	tg.UploadGetWebFileRequestTypeID: method(needsLogin, (*Handler).getWebFile),

	// CDN downloads, on the master (C3, C4).
	tg.HelpGetCDNConfigRequestTypeID:       method(noLogin, (*Handler).getCdnConfig),
	tg.UploadReuploadCDNFileRequestTypeID:  method(needsLogin, (*Handler).reuploadCdnFile),
	tg.UploadGetCDNFileHashesRequestTypeID: method(needsLogin, (*Handler).getCdnFileHashes),

	// messages.*: media that uses uploaded files.
	tg.MessagesUploadMediaRequestTypeID:       method(needsLogin, (*Handler).uploadMedia),
	tg.MessagesSendMediaRequestTypeID:         method(needsLogin, (*Handler).sendMedia),
	tg.MessagesSendMultiMediaRequestTypeID:    method(needsLogin, (*Handler).sendMultiMedia),
	tg.MessagesGetMessagesRequestTypeID:       method(needsLogin, (*Handler).getMessages),
	tg.MessagesGetHistoryRequestTypeID:        method(needsLogin, (*Handler).getHistory),
	tg.MessagesDeleteMessagesRequestTypeID:    method(needsLogin, (*Handler).deleteMessages),
	tg.MessagesGetDocumentByHashRequestTypeID: method(needsLogin, (*Handler).getDocumentByHash),

	// Chats and channels: members, media and photos (M8).
	tg.MessagesCreateChatRequestTypeID:      method(needsLogin, (*Handler).createChat),
	tg.ChannelsCreateChannelRequestTypeID:   method(needsLogin, (*Handler).createChannel),
	tg.MessagesAddChatUserRequestTypeID:     method(needsLogin, (*Handler).addChatUser),
	tg.ChannelsInviteToChannelRequestTypeID: method(needsLogin, (*Handler).inviteToChannel),
	tg.MessagesGetChatsRequestTypeID:        method(needsLogin, (*Handler).getChats),
	tg.ChannelsGetChannelsRequestTypeID:     method(needsLogin, (*Handler).getChannels),
	tg.MessagesGetFullChatRequestTypeID:     method(needsLogin, (*Handler).getFullChat),
	tg.ChannelsGetFullChannelRequestTypeID:  method(needsLogin, (*Handler).getFullChannel),
	tg.MessagesEditChatPhotoRequestTypeID:   method(needsLogin, (*Handler).editChatPhoto),
	tg.ChannelsEditPhotoRequestTypeID:       method(needsLogin, (*Handler).channelsEditPhoto),
	tg.ChannelsGetMessagesRequestTypeID:     method(needsLogin, (*Handler).channelGetMessages),

	// photos.*: profile photos and videos.
	tg.PhotosUploadProfilePhotoRequestTypeID: method(needsLogin, (*Handler).uploadProfilePhoto),
	tg.PhotosUpdateProfilePhotoRequestTypeID: method(needsLogin, (*Handler).updateProfilePhoto),
	tg.PhotosGetUserPhotosRequestTypeID:      method(needsLogin, (*Handler).getUserPhotos),
	tg.PhotosDeletePhotosRequestTypeID:       method(needsLogin, (*Handler).deletePhotos),
}

func savePartRoute(name string) route {
	return route{name: name, login: needsLogin, serve: func(h *Handler, ctx context.Context, c *call) (bin.Encoder, error) {
		p, err := decodeSavePart(c.Body)
		if err != nil {
			return nil, errInputRequest
		}
		return h.saveFilePart(ctx, c, p)
	}}
}

// serve runs one call through its route.
func (h *Handler) serve(ctx context.Context, c *call, id uint32) (bin.Encoder, error) {
	rt, ok := routes[id]
	if !ok {
		return nil, errMethodInvalid
	}
	w := &c.Invoke
	if w.BusinessConnection != "" {
		return nil, errConnectionID // filedc has no business connections
	}
	if rt.login || w.HasTakeout {
		if c.user == 0 {
			// The login may have happened through another process of this DC.
			if rec, err := c.ReloadKey(ctx); err == nil {
				c.user = rec.UserID
			}
		}
		if c.user == 0 {
			return nil, errUnregistered
		}
		if err := h.allow(c.user); err != nil {
			return nil, err
		}
	}
	if !rt.login && c.user == 0 && c.Key != nil {
		// Calls before login have a bucket per auth key (S7c).
		if ok, wait := h.anon.Take(c.Key.Record().ID, 1); !ok {
			return nil, &server.RPCError{Code: 420, Message: limit.FloodWait(wait), Limit: "anon_calls"}
		}
	}
	if w.HasTakeout && !h.takeouts.valid(c.user, w.Takeout) {
		return nil, errTakeoutInvalid
	}
	return rt.serve(h, ctx, c)
}
