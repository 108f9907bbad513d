package objstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/filedc/filedc/internal/store/trips"
)

// CountTrips wraps a bucket so that every request it makes is counted as a
// round trip to service.
func CountTrips(b Bucket, service string, c *trips.Counter) Bucket {
	return &countedBucket{b: b, service: service, c: c}
}

type countedBucket struct {
	b       Bucket
	service string
	c       *trips.Counter
}

func (b *countedBucket) Put(ctx context.Context, key string, data []byte) error {
	b.c.Add(b.service, "put")
	return b.b.Put(ctx, key, data)
}

func (b *countedBucket) ReadAt(ctx context.Context, key string, p []byte, off int64) error {
	b.c.Add(b.service, "read")
	return b.b.ReadAt(ctx, key, p, off)
}

func (b *countedBucket) Get(ctx context.Context, key string) ([]byte, error) {
	b.c.Add(b.service, "get")
	return b.b.Get(ctx, key)
}

func (b *countedBucket) Delete(ctx context.Context, keys ...string) error {
	b.c.Add(b.service, "delete")
	return b.b.Delete(ctx, keys...)
}

func (b *countedBucket) List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error {
	b.c.Add(b.service, "list")
	return b.b.List(ctx, prefix, fn)
}

// CountTrips counts every command and every pipeline (MULTI/EXEC is one)
// the index sends to Redis.
func (r *Redis) CountTrips(c *trips.Counter) {
	r.client.AddHook(tripHook{c})
}

type tripHook struct{ c *trips.Counter }

func (h tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.c.Add("redis", cmd.Name())
		return next(ctx, cmd)
	}
}

func (h tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.c.Add("redis", "pipeline")
		return next(ctx, cmds)
	}
}
