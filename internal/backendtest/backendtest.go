// Package backendtest gives each test its own namespace on the PostgreSQL,
// Redis and S3 servers that scripts/test.sh starts, so that tests (and test
// packages running in parallel) never see each other's data.
package backendtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/filedc/filedc/internal/testenv"
)

// Name returns a fresh lower-case name with prefix, usable as a schema name
// and in keys.
func Name(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Postgres returns a --postgres URL whose search_path is a new, empty schema,
// dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	return PostgresOn(t, testenv.Require(t, "FILEDC_TEST_POSTGRES"))
}

// PostgresOn is Postgres on the server at base.
func PostgresOn(t testing.TB, base string) string {
	t.Helper()
	schema := Name("t_")
	exec := func(sql string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("postgres: %s: %v", sql, err)
		}
	}
	exec(`CREATE SCHEMA ` + schema)
	t.Cleanup(func() { exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	return withParam(t, base, "search_path", schema)
}

// Redis returns a --redis URL with a key prefix of its own.
func Redis(t testing.TB) string {
	t.Helper()
	return RedisOn(t, testenv.Require(t, "FILEDC_TEST_REDIS"))
}

// RedisOn is Redis on the server at base.
func RedisOn(t testing.TB, base string) string {
	t.Helper()
	return withParam(t, base, "prefix", Name("t-")+":")
}

// S3 returns an --s3 URL with a key prefix of its own in the test bucket.
func S3(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(testenv.Require(t, "FILEDC_TEST_S3"))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + Name("t-") + "/"
	return u.String()
}

func withParam(t testing.TB, raw, name, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}
