// Package testenv gives tests the services that scripts/test.sh starts.
//
// A test that needs a service (PostgreSQL, Redis, S3, ffprobe, Node) reads its
// address from an environment variable that the setup scripts export. Outside
// CI a missing variable skips the test, so `go test` works on a bare machine;
// with CI set it fails, so that a missing service never passes as a skip.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Require returns the value of the environment variable name, or ends the
// test: skipped outside CI, failed in CI.
func Require(t testing.TB, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: scripts/test.sh should have started the service it names", name)
	}
	t.Skipf("%s is not set; run `make test` to start the service it names", name)
	return ""
}

// FFmpegSample makes a media file with ffmpeg (ffmpeg is the path of its
// binary, args its input and encoding options, name the output's file name,
// whose extension picks the container) and returns its bytes, so that tests
// need no committed sample binaries.
func FFmpegSample(t testing.TB, ffmpeg, name string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(ffmpeg, append(append([]string{"-v", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// StopAtCleanup interrupts the started process cmd when the test ends, and
// kills it if it has not exited 30 seconds later.
func StopAtCleanup(t testing.TB, cmd *exec.Cmd) {
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}
