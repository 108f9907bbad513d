package objstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/filedc/filedc/internal/store"
)

// Redis is an Index in Redis. Each upload is one hash, which expires MaxTTL
// after its last part was saved: U8's upper bound holds even when no filedc
// process is left to sweep. A set lists the uploads for Scan.
//
//	PREFIX u:<upload id>   hash: "k" -> the upload key, "<index>" -> entry
//	PREFIX h:<upload id>   the upload's hash state (store.HashStateKeeper)
//	PREFIX uploads         set of upload ids
type Redis struct {
	client *redis.Client
	prefix string
	ttl    time.Duration
}

// DefaultRedisPrefix starts every key unless the URL says otherwise.
const DefaultRedisPrefix = "filedc:"

// OpenRedis connects to the server of a --redis URL:
// redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=P&...], with any
// option go-redis accepts. ttl is how long an upload's state lives after its
// last save (the engine's MaxTTL).
func OpenRedis(ctx context.Context, raw string, ttl time.Duration) (*Redis, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	q := u.Query()
	prefix := DefaultRedisPrefix
	if q.Has("prefix") {
		prefix = q.Get("prefix")
		q.Del("prefix")
		u.RawQuery = q.Encode()
	}
	opt, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if ttl <= 0 {
		return nil, errors.New("redis: the state's time to live must be positive")
	}
	client := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	return &Redis{client: client, prefix: prefix, ttl: ttl}, nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

func (r *Redis) hash(id store.UploadID) string  { return r.prefix + "u:" + id.String() }
func (r *Redis) set() string                    { return r.prefix + "uploads" }
func (r *Redis) state(id store.UploadID) string { return r.prefix + "h:" + id.String() }

// PutHashState implements Index. The state expires like the upload's hash,
// so a state whose upload went without DeleteUpload does not stay.
func (r *Redis) PutHashState(ctx context.Context, id store.UploadID, state []byte) error {
	return r.client.Set(ctx, r.state(id), state, r.ttl).Err()
}

// HashState implements Index.
func (r *Redis) HashState(ctx context.Context, id store.UploadID) ([]byte, error) {
	b, err := r.client.Get(ctx, r.state(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrNotFound
	}
	return b, err
}

const keyField = "k"

func encodeKey(k store.UploadKey) []byte {
	b := make([]byte, 17)
	binary.BigEndian.PutUint64(b, uint64(k.Owner))
	binary.BigEndian.PutUint64(b[8:], uint64(k.FileID))
	if k.Big {
		b[16] = 1
	}
	return b
}

func decodeKey(b []byte) (store.UploadKey, bool) {
	if len(b) != 17 {
		return store.UploadKey{}, false
	}
	return store.UploadKey{Owner: int64(binary.BigEndian.Uint64(b)), FileID: int64(binary.BigEndian.Uint64(b[8:])), Big: b[16] == 1}, true
}

// Put implements Index. One MULTI/EXEC reads the old entry and writes the new
// one, so of two concurrent saves each learns the entry it replaced.
func (r *Redis) Put(ctx context.Context, id store.UploadID, key store.UploadKey, e Entry) (Entry, bool, error) {
	h, field := r.hash(id), strconv.Itoa(e.Index)
	var old *redis.StringCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		old = p.HGet(ctx, h, field)
		p.HSet(ctx, h, keyField, encodeKey(key), field, e.encode())
		p.PExpire(ctx, h, r.ttl)
		p.SAdd(ctx, r.set(), id.String())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Entry{}, false, err
	}
	return decodeOld(old, e.Index)
}

func decodeOld(cmd *redis.StringCmd, index int) (Entry, bool, error) {
	b, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	e, err := decodeEntry(index, b)
	return e, err == nil, nil // a damaged old entry: nothing to clean up
}

// Get implements Index.
func (r *Redis) Get(ctx context.Context, id store.UploadID, index int) (Entry, error) {
	b, err := r.client.HGet(ctx, r.hash(id), strconv.Itoa(index)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Entry{}, store.ErrNotFound
	}
	if err != nil {
		return Entry{}, err
	}
	return decodeEntry(index, b)
}

// GetMany implements Index with one HMGET.
func (r *Redis) GetMany(ctx context.Context, id store.UploadID, indexes []int) ([]Entry, []bool, error) {
	if len(indexes) == 0 {
		return nil, nil, nil
	}
	fields := make([]string, len(indexes))
	for i, index := range indexes {
		fields[i] = strconv.Itoa(index)
	}
	vals, err := r.client.HMGet(ctx, r.hash(id), fields...).Result()
	if err != nil {
		return nil, nil, err
	}
	entries, ok := make([]Entry, len(indexes)), make([]bool, len(indexes))
	for i, v := range vals {
		s, isString := v.(string)
		if !isString {
			continue
		}
		if e, err := decodeEntry(indexes[i], []byte(s)); err == nil {
			entries[i], ok[i] = e, true
		}
	}
	return entries, ok, nil
}

// Delete implements Index.
func (r *Redis) Delete(ctx context.Context, id store.UploadID, index int) (Entry, bool, error) {
	h, field := r.hash(id), strconv.Itoa(index)
	var old *redis.StringCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		old = p.HGet(ctx, h, field)
		p.HDel(ctx, h, field)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Entry{}, false, err
	}
	return decodeOld(old, index)
}

// DeleteUpload implements Index.
func (r *Redis) DeleteUpload(ctx context.Context, id store.UploadID) ([]Entry, error) {
	var all *redis.MapStringStringCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		all = p.HGetAll(ctx, r.hash(id))
		p.Del(ctx, r.hash(id), r.state(id))
		p.SRem(ctx, r.set(), id.String())
		return nil
	})
	if err != nil {
		return nil, err
	}
	_, entries := decodeUpload(all.Val())
	return entries, nil
}

// decodeUpload reads an upload's hash; damaged fields are left out.
func decodeUpload(fields map[string]string) (key store.UploadKey, entries []Entry) {
	for f, v := range fields {
		if f == keyField {
			key, _ = decodeKey([]byte(v))
			continue
		}
		index, err := strconv.Atoi(f)
		if err != nil || index < 0 {
			continue
		}
		if e, err := decodeEntry(index, []byte(v)); err == nil {
			entries = append(entries, e)
		}
	}
	return key, entries
}

// Scan implements Index. Uploads whose hash expired are dropped from the set.
func (r *Redis) Scan(ctx context.Context, fn func(id store.UploadID, key store.UploadKey, entries []Entry) error) error {
	var cursor uint64
	seen := make(map[string]bool) // SSCAN may return a member twice
	for {
		ids, next, err := r.client.SScan(ctx, r.set(), cursor, "", 256).Result()
		if err != nil {
			return err
		}
		for _, s := range ids {
			if seen[s] {
				continue
			}
			seen[s] = true
			id, err := store.ParseUploadID(s)
			if err != nil {
				r.client.SRem(ctx, r.set(), s)
				continue
			}
			fields, err := r.client.HGetAll(ctx, r.hash(id)).Result()
			if err != nil {
				return err
			}
			key, entries := decodeUpload(fields)
			if len(entries) == 0 {
				if err := r.client.SRem(ctx, r.set(), s).Err(); err != nil {
					return err
				}
				continue
			}
			if err := fn(id, key, entries); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}
