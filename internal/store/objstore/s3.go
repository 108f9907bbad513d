package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/filedc/filedc/internal/store"
)

// S3 is a Bucket in S3-compatible object storage.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // every key starts with it ("" or ending in "/")
}

// S3Config is what an --s3 URL says.
type S3Config struct {
	Endpoint  string // host:port
	Secure    bool   // https
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string // "" or ending in "/"
	Region    string
}

// ParseS3URL parses http[s]://ACCESS:SECRET@HOST[:PORT]/BUCKET[/PREFIX][?region=R].
func ParseS3URL(raw string) (S3Config, error) {
	var c S3Config
	u, err := url.Parse(raw)
	if err != nil {
		return c, fmt.Errorf("s3 url: %w", err)
	}
	switch u.Scheme {
	case "http":
	case "https":
		c.Secure = true
	default:
		return c, fmt.Errorf("s3 url %q: scheme must be http or https", redactURL(u))
	}
	if u.Host == "" {
		return c, fmt.Errorf("s3 url %q: no host", redactURL(u))
	}
	c.Endpoint = u.Host
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return c, fmt.Errorf("s3 url %q: want credentials as ACCESS_KEY:SECRET_KEY@host", redactURL(u))
	}
	path := strings.TrimPrefix(u.Path, "/")
	c.Bucket, c.Prefix, _ = strings.Cut(path, "/")
	if c.Bucket == "" {
		return c, fmt.Errorf("s3 url %q: no bucket: want %s://KEY:SECRET@%s/BUCKET[/PREFIX]", redactURL(u), u.Scheme, u.Host)
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	q := u.Query()
	c.Region = q.Get("region")
	for k := range q {
		if k != "region" {
			return c, fmt.Errorf("s3 url %q: unknown parameter %q (known: region)", redactURL(u), k)
		}
	}
	return c, nil
}

func redactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	r := *u
	r.User = url.UserPassword(u.User.Username(), "xxxxx")
	return r.String()
}

// OpenS3 connects to the bucket of the --s3 URL, creating the bucket when
// it does not exist.
func OpenS3(ctx context.Context, raw string) (*S3, error) {
	c, err := ParseS3URL(raw)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:       c.Secure,
		Region:       c.Region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    transport(),
		MaxRetries:   2,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ok, err := client.BucketExists(ctx, c.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: bucket %s at %s: %w", c.Bucket, c.Endpoint, err)
	}
	if !ok {
		err := client.MakeBucket(ctx, c.Bucket, minio.MakeBucketOptions{Region: c.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("s3: create bucket %s: %w", c.Bucket, err)
		}
	}
	return &S3{client: client, bucket: c.Bucket, prefix: c.Prefix}, nil
}

// transport keeps enough idle connections for the parallel part writes of
// many clients.
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.ResponseHeaderTimeout = time.Minute
	return t
}

func isNotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// Put implements Bucket. Parts are small: one PUT each. The payload is not
// hashed for the signature (the part index keeps a CRC-32C of every part).
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: true, DisableMultipart: true})
	return err
}

// ReadAt implements Bucket with a ranged GET.
func (s *S3) ReadAt(ctx context.Context, key string, p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+int64(len(p))-1); err != nil {
		return err
	}
	// GetObject returns a lazy reader; the request goes out on the first read.
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, opts)
	if err != nil {
		return s3Err(err)
	}
	defer obj.Close()
	if _, err := io.ReadFull(obj, p); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return store.ErrCorrupt
		}
		return s3Err(err)
	}
	return nil
}

func s3Err(err error) error {
	if isNotFound(err) {
		return store.ErrNotFound
	}
	return err
}

// Get implements Bucket.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Err(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, maxSmallObject+1))
	if err != nil {
		return nil, s3Err(err)
	}
	if len(b) > maxSmallObject {
		return nil, fmt.Errorf("s3: %s is larger than %d bytes", key, maxSmallObject)
	}
	return b, nil
}

// Delete implements Bucket.
func (s *S3) Delete(ctx context.Context, keys ...string) error {
	switch len(keys) {
	case 0:
		return nil
	case 1:
		err := s.client.RemoveObject(ctx, s.bucket, s.prefix+keys[0], minio.RemoveObjectOptions{})
		if err != nil && !isNotFound(err) {
			return err
		}
		return nil
	}
	ch := make(chan minio.ObjectInfo, len(keys))
	for _, k := range keys {
		ch <- minio.ObjectInfo{Key: s.prefix + k}
	}
	close(ch)
	for e := range s.client.RemoveObjects(ctx, s.bucket, ch, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !isNotFound(e.Err) {
			return e.Err
		}
	}
	return nil
}

// List implements Bucket.
func (s *S3) List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		if err := fn(strings.TrimPrefix(obj.Key, s.prefix), obj.LastModified); err != nil {
			return err
		}
	}
	return ctx.Err()
}
