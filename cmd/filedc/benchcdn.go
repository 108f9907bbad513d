package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/cdn"
)

// benchCDNDC is the id of the CDN DC bench --cdn starts.
const benchCDNDC = 201

// startBenchCDN starts a CDN DC (serve --cdn) for the bench's server, with a
// cache that holds the largest file twice.
func startBenchCDN(ctx context.Context, dir, token string, addrs []string, sizes []int64) (*benchServer, error) {
	cache := max(2*slices.Max(sizes), 64<<20)
	return startBenchServer(ctx, filepath.Join(dir, "cdn"), addrs[0], token, filepath.Join(dir, "cdn.log"), "",
		"--cdn", "--dc", fmt.Sprint(benchCDNDC), "--http", addrs[1],
		"--cdn-secret", filepath.Join(dir, "data", cdn.SecretFile), "--cdn-cache", formatSize(cache))
}

// cdnFigures is one download through the CDN.
type cdnFigures struct {
	label string        // cold or warm
	took  time.Duration // all bytes received
	// CPU time (user+sys) of the client, the master and the CDN; -1 where
	// /proc has none.
	cpu [3]time.Duration
}

// downloadViaCDN downloads a document twice through the CDN with gotd's
// downloader following the master's redirect: cold (each block pushed on
// reuploadCdnFile) and warm (from the CDN's cache).
func downloadViaCDN(ctx context.Context, client *telegram.Client, master, cdnSrv *benchServer, ref docRef, streams int, sum [32]byte) ([]cdnFigures, error) {
	var out []cdnFigures
	for _, label := range []string{"cold", "warm"} {
		buf := make([]byte, ref.Size)
		bar := startProgress("download via CDN ("+label+") "+formatSize(ref.Size), ref.Size)
		loc := &tg.InputDocumentFileLocation{ID: ref.ID, AccessHash: ref.AccessHash, FileReference: ref.FileReference}
		cpu0 := cpuTimes([]*benchServer{master, cdnSrv})
		start := time.Now()
		_, err := client.Download(loc).WithThreads(streams).Parallel(ctx, countingWriterAt{w: sliceWriterAt(buf), p: bar})
		f := cdnFigures{label: label, took: time.Since(start)}
		copy(f.cpu[:], cpuSince(cpu0, cpuTimes([]*benchServer{master, cdnSrv})))
		bar.finish(err == nil)
		if err != nil {
			return out, fmt.Errorf("download through the CDN (%s): %w", label, err)
		}
		if sha256.Sum256(buf) != sum {
			return out, errors.New("the bytes downloaded through the CDN differ from the uploaded ones (SHA-256)")
		}
		out = append(out, f)
	}
	return out, nil
}

// printCDN prints the downloads through the CDN beside the direct one.
func printCDN(w io.Writer, results []benchResult) {
	if len(results) == 0 || len(results[0].viaCDN) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\tdownload\tMiB/s\tclient ms/MiB\tmaster ms/MiB\tCDN ms/MiB\t")
	perMiB := func(d time.Duration, size int64) string {
		if d < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", msPerMiB(d, size))
	}
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t\n", formatSize(r.size), "direct", mibps(r.size, r.down),
			perMiB(r.downCPU[0], r.size), perMiB(r.downCPU[1], r.size), "-")
		for _, c := range r.viaCDN {
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t\n", formatSize(r.size), "via CDN, "+c.label, mibps(r.size, c.took),
				perMiB(c.cpu[0], r.size), perMiB(c.cpu[1], r.size), perMiB(c.cpu[2], r.size))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "via CDN: gotd's downloader follows upload.fileCdnRedirect, decrypts AES-256-CTR and checks each 128 KiB range against the master's hashes; cold: every block pushed on upload.reuploadCdnFile; warm: from the CDN's cache.")
}
