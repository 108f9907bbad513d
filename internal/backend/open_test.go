package backend_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/backendtest"
	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/storetest"
)

// TestO1_BackendURLsValidated: a malformed URL fails before anything
// connects, with a message that names the flag and the expected form, and
// never shows the password.
func TestO1_BackendURLsValidated(t *testing.T) {
	tests := []struct {
		name string
		o    backend.Options
		want string
	}{
		{"s3 scheme", backend.Options{S3: "ftp://k:hunter2@h/b"}, "--s3: s3 url \"ftp://k:xxxxx@h/b\": scheme must be http or https"},
		{"s3 no bucket", backend.Options{S3: "http://k:hunter2@127.0.0.1:9000/"}, "no bucket"},
		{"s3 no credentials", backend.Options{S3: "http://127.0.0.1:9000/b"}, "want credentials as ACCESS_KEY:SECRET_KEY@host"},
		{"s3 unknown parameter", backend.Options{S3: "http://k:hunter2@h/b?regoin=x"}, "unknown parameter \"regoin\""},
		{"postgres scheme", backend.Options{Postgres: "mysql://u:hunter2@h/db"}, "--postgres: want postgres://USER:PASSWORD@HOST:PORT/DATABASE"},
		{"redis scheme", backend.Options{Redis: "http://:hunter2@h:6379"}, "--redis: want redis://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
	ok := backend.Options{S3: "https://k:s@s3.example.com/bucket/some/prefix?region=eu-west-1",
		Postgres: "postgres://u:p@db:5432/filedc?sslmode=require", Redis: "redis://:p@cache:6379/2?prefix=dc2:"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate of good URLs: %v", err)
	}
}

// TestO1_OpenEveryCombination: each combination of --s3, --postgres and
// --redis stores a file that is still there, byte for byte, after the
// backend is closed and opened again.
func TestO1_OpenEveryCombination(t *testing.T) {
	data := storetest.Data(9, 3*512<<10+777)
	for _, c := range []struct {
		name                string
		s3, postgres, redis bool
	}{
		{"embedded", false, false, false},
		{"s3", true, false, false},
		{"postgres", false, true, false},
		{"redis", false, false, true},
		{"s3+redis", true, false, true},
		{"s3+postgres+redis", true, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := backend.Options{Dir: t.TempDir()}
			if c.s3 {
				o.S3 = backendtest.S3(t)
			}
			if c.postgres {
				o.Postgres = backendtest.Postgres(t)
			}
			if c.redis {
				o.Redis = backendtest.Redis(t)
			}
			ctx := context.Background()
			b, err := backend.Open(ctx, o, files.Config{})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := b.Engine.StoreBytes(ctx, 1, "combo.bin", data)
			if err != nil {
				t.Fatal(err)
			}
			// An upload left half done survives the restart too.
			key := store.UploadKey{Owner: 1, FileID: 5, Big: true}
			if err := b.Engine.SavePart(ctx, files.SavePart{Key: key, Part: 0, TotalParts: 2, Data: data[:512<<10]}); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			b, err = backend.Open(ctx, o, files.Config{})
			if err != nil {
				t.Fatalf("reopening: %v", err)
			}
			defer b.Close()
			got, err := b.Engine.ReadAll(ctx, files.FileRef{ID: rec.ID, AccessHash: rec.AccessHash}, int64(len(data)))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("the file after reopening: %d bytes, %v", len(got), err)
			}
			if err := b.Engine.SavePart(ctx, files.SavePart{Key: key, Part: 1, TotalParts: 2, Data: data[512<<10 : 600<<10]}); err != nil {
				t.Fatal(err)
			}
			rec2, err := b.Engine.Finalize(ctx, files.Finalize{Key: key, Parts: 2, Name: "half.bin"})
			if err != nil {
				t.Fatalf("finalizing the upload begun before reopening: %v", err)
			}
			got, err = b.Engine.ReadAll(ctx, files.FileRef{ID: rec2.ID, AccessHash: rec2.AccessHash}, 1<<20)
			if err != nil || !bytes.Equal(got, data[:600<<10]) {
				t.Fatalf("the upload finished after reopening: %d bytes, %v", len(got), err)
			}
		})
	}
}
