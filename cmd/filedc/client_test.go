package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/filedc/filedc/internal/backendtest"
	"github.com/filedc/filedc/internal/ready"
	"github.com/filedc/filedc/internal/testenv"
)

const testBotToken = "7000042:client-test-secret"

// startServe runs "filedc serve" on loopback with testBotToken and returns
// its MTProto address and public key path.
func startServe(t *testing.T, bin string) (addr, key string) {
	t.Helper()
	info := startReady(t, bin, "serve", "--data", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--bot-token", testBotToken)
	return info.Listen, info.PublicKey
}

// startReady runs the binary with args and --ready-file until the test
// ends, and returns what it wrote there once ready.
func startReady(t *testing.T, bin string, args ...string) ready.Info {
	t.Helper()
	readyPath := filepath.Join(t.TempDir(), "ready.json")
	cmd := exec.Command(bin, append(args, "--ready-file", readyPath)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs after the stop below
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	testenv.StopAtCleanup(t, cmd)
	exited := make(chan struct{}) // standard output ends when the process does
	go func() {
		io.Copy(io.Discard, stdout)
		close(exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := ready.Wait(ctx, readyPath, exited)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// run runs the binary and returns its stdout and stderr.
func run(t *testing.T, env []string, bin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func TestO1_UploadThenDownloadWithVerify(t *testing.T) {
	bin := buildBinary(t)
	addr, key := startServe(t, bin)
	conn := []string{"--addr", addr, "--key", key}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		size int
	}{
		{"small-path-3MiB", 3<<20 + 4321}, // upload.saveFilePart, one part at a time
		{"big-path-12MiB", 12<<20 + 999},  // upload.saveBigFilePart, parallel parts
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.size)
			rand.NewChaCha8([32]byte{byte(tc.size)}).Read(data)
			in := filepath.Join(dir, tc.name+".pdf")
			if err := os.WriteFile(in, data, 0o600); err != nil {
				t.Fatal(err)
			}
			// The token comes from the environment here, from the flag below.
			stdout, stderr, err := run(t, []string{"FILEDC_BOT_TOKEN=" + testBotToken}, bin,
				append([]string{"upload", in, "--threads", "3"}, conn...)...)
			if err != nil {
				t.Fatalf("upload: %v\n%s", err, stderr)
			}
			if stderr != "" {
				t.Errorf("upload wrote to stderr without a terminal (no progress bar expected): %q", stderr)
			}
			fields := strings.Fields(stdout)
			if strings.Count(stdout, "\n") != 1 || len(fields) != 5 || fields[0] != "document" {
				t.Fatalf("upload printed %q, want one line: document ID ACCESS_HASH SIZE FILE_REFERENCE_HEX", stdout)
			}
			if size, err := strconv.Atoi(fields[3]); err != nil || size != tc.size {
				t.Fatalf("upload printed size %q, want %d", fields[3], tc.size)
			}

			// ID ACCESS_HASH FILE_REFERENCE_HEX, verified against upload.getFileHashes.
			out := filepath.Join(dir, tc.name+".out")
			_, stderr, err = run(t, nil, bin, append([]string{"download", fields[1], fields[2], fields[4],
				"-o", out, "--threads", "4", "--bot-token", testBotToken}, conn...)...)
			if err != nil {
				t.Fatalf("download: %v\n%s", err, stderr)
			}
			if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes (%v) that differ from the %d uploaded", len(got), err, len(data))
			}

			// The whole line upload printed, without verification.
			out2 := filepath.Join(dir, tc.name+".out2")
			_, stderr, err = run(t, nil, bin, append(append([]string{"download"}, fields...),
				"-o", out2, "--no-verify", "--bot-token", testBotToken, "--addr", addr, "--key", key)...)
			if err != nil {
				t.Fatalf("download of the upload line: %v\n%s", err, stderr)
			}
			if got, err := os.ReadFile(out2); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes (%v) that differ from the %d uploaded", len(got), err, len(data))
			}
		})
	}

	t.Run("unknown-document-fails-and-leaves-no-file", func(t *testing.T) {
		out := filepath.Join(dir, "missing.out")
		_, stderr, err := run(t, nil, bin, append([]string{"download", "12345", "678", "-o", out,
			"--bot-token", testBotToken}, conn...)...)
		// FILE_ID_INVALID, or FILE_REFERENCE_INVALID where references are checked first.
		if err == nil || !strings.Contains(stderr, "FILE_") {
			t.Fatalf("download of an unknown document: %v, stderr %q; want a failure naming the RPC error", err, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("a failed download left %s (%v)", out, err)
		}
	})
}

func TestO1_BenchPrintsCeilingAndRatios(t *testing.T) {
	bin := buildBinary(t)
	profiles := t.TempDir()
	stdout, stderr, err := run(t, nil, bin, "bench", "--sizes", "1MiB,40MiB", "--streams", "2", "--profile", profiles)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, stdout, stderr)
	}
	t.Logf("bench output:\n%s", stdout)
	checkBenchOutput(t, stdout, "1MiB")
	checkBenchOutput(t, stdout, "40MiB")
	checkBoundLines(t, stdout, "40MiB")
	checkStages(t, stdout, profiles, "40MiB")
}

// checkStages checks bench --profile: the profiles of each transfer are
// kept and read, and the stage table adds up to what was profiled.
func checkStages(t *testing.T, stdout, dir, size string) {
	t.Helper()
	for _, name := range []string{size + "-upload.cpu.pprof", size + "-download.cpu.pprof", size + ".allocs.pprof"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", name, err)
		}
	}
	for _, direction := range []string{"upload", "download"} {
		m := regexp.MustCompile(`(?m)^\s*` + size + `\s+` + direction + `((?:\s+[0-9.]+){12})\s*$`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no %s %s row of 10 stages, profiled and /proc CPU in:\n%s", size, direction, stdout)
		}
		var v []float64
		for _, f := range strings.Fields(m[1]) {
			x, _ := strconv.ParseFloat(f, 64)
			v = append(v, x)
		}
		var sum float64
		for _, x := range v[:10] {
			sum += x
		}
		if v[10] <= 0 || v[11] <= 0 || math.Abs(sum-v[10]) > 0.1 {
			t.Errorf("%s %s: stages add up to %.2f, profiled %.2f, /proc %.2f ms/MiB", size, direction, sum, v[10], v[11])
		}
		if v[0] <= 0 {
			t.Errorf("%s %s: no transport crypto in the profile", size, direction)
		}
	}
	if !strings.Contains(stdout, "upload goal: at most 1.15 x") {
		t.Errorf("no floors and goals under the stage table:\n%s", stdout)
	}
}

// checkBoundLines checks what the client's CPU leaves, per direction, under
// the ratio line of one size: the bound is at most the ceiling.
func checkBoundLines(t *testing.T, stdout, size string) {
	t.Helper()
	line := func(dir string) string {
		return `  ` + dir + `: the client used ([0-9.]+) ms of CPU per MiB; .* allow at most ([0-9.]+) MiB/s \(([0-9.]+) of the ceiling\); reached ([0-9.]+) of that; the server used ([0-9.]+) ms per MiB\n`
	}
	m := regexp.MustCompile(`(?m)^` + size + `: upload .*\n` + line("upload") + line("download")).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no bound lines under the %s ratio line in:\n%s", size, stdout)
	}
	for i, dir := range []string{"upload", "download"} {
		g := m[1+5*i : 6+5*i]
		for j, what := range []string{"client ms/MiB", "bound", "", "fraction of the bound", "server ms/MiB"} {
			if v, err := strconv.ParseFloat(g[j], 64); err != nil || v <= 0 || (j == 2 && v > 1) {
				t.Errorf("%s %s: %q; want a positive number (a fraction for the bound's share of the ceiling)", dir, what, g[j])
			}
		}
	}
}

// TestO2_BenchSpreadsOverTwoProcesses: bench --processes 2 on the
// distributed backends starts two processes of one DC, prints the same
// table, and each process answered part and chunk calls.
func TestO2_BenchSpreadsOverTwoProcesses(t *testing.T) {
	stores := []string{"--s3", backendtest.S3(t), "--postgres", backendtest.Postgres(t), "--redis", backendtest.Redis(t)}
	bin := buildBinary(t)
	if _, _, err := run(t, nil, bin, "bench", "--sizes", "1MiB", "--processes", "2", "--postgres", "postgres://x@127.0.0.1:1/x"); err == nil {
		t.Error("bench --processes 2 without --s3 and --redis ran")
	}
	stdout, stderr, err := run(t, nil, bin, append([]string{"bench", "--sizes", "3MiB", "--streams", "2", "--processes", "2"}, stores...)...)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, stdout, stderr)
	}
	t.Logf("bench output:\n%s", stdout)
	checkBenchOutput(t, stdout, "3MiB")
	if !regexp.MustCompile(`(?m)^filedc bench: .* 2 server processes of DC \d+ \(pids \d+, \d+\)`).MatchString(stdout) {
		t.Errorf("no line naming the two server processes in:\n%s", stdout)
	}
	// Per process: size, process, address, save calls, getFile calls, upload CPU, download CPU, peak RSS.
	rows := regexp.MustCompile(`(?m)^\s*3MiB\s+([12])\s+127\.0\.0\.1:\d+\s+(\d+)\s+(\d+)\s+[0-9.]+s\s+[0-9.]+s\s+[0-9.]+MiB\s*$`).FindAllStringSubmatch(stdout, -1)
	if len(rows) != 2 {
		t.Fatalf("want 2 per-process rows for 3MiB, got %d in:\n%s", len(rows), stdout)
	}
	for _, m := range rows {
		saves, _ := strconv.Atoi(m[2])
		gets, _ := strconv.Atoi(m[3])
		if saves == 0 || gets == 0 {
			t.Errorf("process %s answered %d part and %d chunk calls; want both > 0", m[1], saves, gets)
		}
	}
	checkTrips(t, stdout, "3MiB")
}

// checkTrips checks the round trips to the stores the bench counts on
// S3 + PostgreSQL + Redis: a part saved writes one object and one Redis
// pipeline and writes nothing to the database; a finalization is one transaction.
func checkTrips(t *testing.T, stdout, size string) {
	t.Helper()
	line := func(what string) string {
		m := regexp.MustCompile(`(?m)^  ` + size + ` ` + regexp.QuoteMeta(what) + ` \((\d+)\): (.*)$`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no round trips for %q in:\n%s", what, stdout)
		}
		if n, _ := strconv.Atoi(m[1]); n < 1 {
			t.Errorf("%s: %s operations", what, m[1])
		}
		return m[2]
	}
	save := line("part saved")
	if !strings.Contains(save, "s3 put 1.00") || strings.Contains(save, "postgres write") || strings.Contains(save, "postgres batch") {
		t.Errorf("a part saved: %s; want one object written and nothing written to the database", save)
	}
	if final := line("finalization (messages.uploadMedia)"); !strings.Contains(final, "postgres begin 1.00") {
		t.Errorf("a finalization: %s; want one transaction", final)
	}
	line("getFile")
	line("sendMedia")
	if !regexp.MustCompile(`(?m)^  ` + size + `: a part saved made 1\.00 object writes .* 0\.00 database writes .* made 1 transactions`).MatchString(stdout) {
		t.Errorf("no goal line meeting the goals in:\n%s", stdout)
	}
}

// checkBenchOutput checks the ceiling, the ratio line and the table row of
// one size.
func checkBenchOutput(t *testing.T, stdout, size string) {
	t.Helper()
	positive := func(what, s string) {
		t.Helper()
		if v, err := strconv.ParseFloat(s, 64); err != nil || v <= 0 {
			t.Errorf("%s %q is not a positive number", what, s)
		}
	}
	m := regexp.MustCompile(`(?m)^crypto ceiling: ([0-9.]+) MiB/s`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no crypto ceiling line in:\n%s", stdout)
	}
	positive("ceiling", m[1])
	m = regexp.MustCompile(`(?m)^` + size + `: upload ([0-9.]+) of the ceiling, download ([0-9.]+) of the ceiling`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no ratio line for %s in:\n%s", size, stdout)
	}
	positive("upload ratio", m[1])
	positive("download ratio", m[2])
	// The table row: size, upload MiB/s, ratio, download MiB/s, ratio, four latencies, finalize, peak RSS.
	m = regexp.MustCompile(`(?m)^\s*` + size + `\s+([0-9.]+)\s+[0-9.]+\s+([0-9.]+)\s+[0-9.]+\s+([0-9.]+)ms\s+[0-9.]+ms\s+([0-9.]+)ms\s+[0-9.]+ms\s+[0-9.]+ms\s+(\S+)\s*$`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no table row for %s in:\n%s", size, stdout)
	}
	positive("upload MiB/s", m[1])
	positive("download MiB/s", m[2])
	positive("save p50", m[3])
	positive("getFile p50", m[4])
	if strings.Contains(stdout, "level=") {
		t.Errorf("the server's log reached the bench output:\n%s", stdout)
	}
}

func TestParseDocRef(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want docRef
		ok   bool
	}{
		{[]string{"1", "-2"}, docRef{ID: 1, AccessHash: -2, Size: -1}, true},
		{[]string{"1", "2", "0a0b"}, docRef{ID: 1, AccessHash: 2, Size: -1, FileReference: []byte{10, 11}}, true},
		{[]string{"document", "1", "2", "300", "ff"}, docRef{ID: 1, AccessHash: 2, Size: 300, FileReference: []byte{255}}, true},
		{[]string{"document", "1", "2", "300", "-"}, docRef{ID: 1, AccessHash: 2, Size: 300}, true},
		{[]string{"1"}, docRef{}, false},
		{[]string{"1", "2", "zz"}, docRef{}, false},
		{[]string{"document", "1", "2"}, docRef{}, false},
		{[]string{"x", "2"}, docRef{}, false},
	} {
		got, err := parseDocRef(tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("parseDocRef(%q): %v, want ok=%v", tc.args, err, tc.ok)
			continue
		}
		if tc.ok && (got.ID != tc.want.ID || got.AccessHash != tc.want.AccessHash || got.Size != tc.want.Size ||
			!bytes.Equal(got.FileReference, tc.want.FileReference)) {
			t.Errorf("parseDocRef(%q) = %+v, want %+v", tc.args, got, tc.want)
		}
		if tc.ok && tc.want.Size >= 0 {
			if back, err := parseDocRef(strings.Fields(got.String())); err != nil || back.String() != got.String() {
				t.Errorf("%q does not read back: %+v, %v", got.String(), back, err)
			}
		}
	}
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("5MiB, 200MiB,1GiB,4096,1.5KiB")
	want := []int64{5 << 20, 200 << 20, 1 << 30, 4096, 1536}
	if err != nil || len(got) != len(want) {
		t.Fatalf("parseSizes: %v, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("size %d = %d, want %d", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "0MiB", "-1MiB", "lots"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
	if s := formatSize(200 << 20); s != "200MiB" {
		t.Errorf("formatSize(200 MiB) = %q", s)
	}
}

// TestC1_BenchThroughTheCDN: bench --cdn starts a CDN DC beside the server
// and prints the downloads through it, cold and warm, beside the direct one.
func TestC1_BenchThroughTheCDN(t *testing.T) {
	bin := buildBinary(t)
	stdout, stderr, err := run(t, nil, bin, "bench", "--cdn", "--sizes", "3MiB", "--streams", "2")
	if err != nil {
		t.Fatalf("bench --cdn: %v\n%s\n%s", err, stdout, stderr)
	}
	t.Logf("bench output:\n%s", stdout)
	for _, what := range []string{"direct", "via CDN, cold", "via CDN, warm"} {
		m := regexp.MustCompile(`(?m)^\s+3MiB\s+` + what + `\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+|-)\s*$`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no %q line in:\n%s", what, stdout)
		}
		if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 {
			t.Errorf("%s: %s MiB/s", what, m[1])
		}
	}
	if _, _, err := run(t, nil, bin, "bench", "--cdn", "--processes", "2"); err == nil {
		t.Error("bench --cdn --processes 2 ran")
	}
}

// TestO1_BenchManyClients: bench --clients connects each count of clients
// with keys of their own, runs the traffic and prints a row per count.
func TestO1_BenchManyClients(t *testing.T) {
	bin := buildBinary(t)
	profiles := t.TempDir()
	stdout, stderr, err := run(t, nil, bin, "bench", "--clients", "1,6", "--clients-traffic", "1s", "--clients-ping", "200ms", "--streams", "2",
		"--profile", profiles)
	if err != nil {
		t.Fatalf("bench --clients: %v\n%s\n%s", err, stdout, stderr)
	}
	t.Logf("bench output:\n%s", stdout)
	for _, n := range []string{"1", "6"} {
		m := regexp.MustCompile(`(?m)^\s*` + n + `\s+1\s+[0-9.]+s\s+([0-9.]+)\s+([0-9.]+)ms\s+([0-9.]+)ms\s+([0-9.]+)ms\s+([0-9.]+)ms\s+(\d+)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no row for %s clients in:\n%s", n, stdout)
		}
		if rate, _ := strconv.ParseFloat(m[1], 64); rate <= 0 {
			t.Errorf("%s clients: %s MiB/s", n, m[1])
		}
		if files, _ := strconv.Atoi(m[6]); files < 1 {
			t.Errorf("%s clients: %s files finalized", n, m[6])
		}
		if pings, _ := strconv.Atoi(m[7]); n == "6" && pings < 5 {
			t.Errorf("6 clients, 5 idle pinging every 200ms for 1s: %d pings", pings)
		}
		// Each side's CPU per MiB: both did the crypto of every byte.
		for i, side := range []string{"server", "clients"} {
			if cpu, _ := strconv.ParseFloat(m[8+i], 64); cpu <= 0 {
				t.Errorf("%s clients: %s CPU %s ms per MiB", n, side, m[8+i])
			}
		}
		// --profile: the server's profile of the traffic, split by stage.
		if st, err := os.Stat(filepath.Join(profiles, "clients-"+n+".cpu.pprof")); err != nil || st.Size() == 0 {
			t.Errorf("%s clients: no CPU profile kept: %v", n, err)
		}
		if !regexp.MustCompile(`(?m)^\s*` + n + `(\s+[0-9.]+){3,}\s*$`).MatchString(stdout[strings.Index(stdout, "by stage"):]) {
			t.Errorf("%s clients: no row in the stage table", n)
		}
	}
}
