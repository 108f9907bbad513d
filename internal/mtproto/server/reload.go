package server

import (
	"context"

	"github.com/filedc/filedc/internal/store"
)

// ReloadKey refreshes the call's auth key from the store and returns the
// fresh record. Several processes of a DC share the key store but cache keys
// apart: a login made through another process is not in this one's cache
// until it is read again. On a store error the cached record stays.
func (r *Request) ReloadKey(ctx context.Context) (store.AuthKey, error) {
	if r.Key == nil {
		return store.AuthKey{}, errNoKey
	}
	if r.srv == nil {
		return r.Key.Record(), nil // a request made outside a server, in tests
	}
	rec, err := r.srv.cfg.Keys.AuthKey(ctx, r.Key.Record().ID)
	if err != nil {
		return r.Key.Record(), err
	}
	// The reload is for the login. The layer is what this key's calls
	// declared here, which their calls store only later: a stored record
	// does not take it back.
	return r.Key.Update(func(k *store.AuthKey) {
		layer := k.Layer
		*k = rec
		if layer != 0 {
			k.Layer = layer
		}
	}), nil
}
