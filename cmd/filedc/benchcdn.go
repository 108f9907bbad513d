package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/filedc/filedc/internal/bench"
	"github.com/filedc/filedc/internal/cdn"
)

// benchCDNDC is the id of the CDN DC bench --cdn starts.
const benchCDNDC = 201

// startBenchCDN starts a CDN DC (serve --cdn) for the bench's server, with a
// cache that holds the largest file twice.
func startBenchCDN(ctx context.Context, dir, token string, addrs []string, sizes []int64) (*bench.Server, error) {
	cache := max(2*slices.Max(sizes), 64<<20)
	return bench.StartServer(ctx, bench.ServerConfig{
		Exe: self(), Data: filepath.Join(dir, "cdn"), Listen: addrs[0], HTTP: addrs[1], DC: benchCDNDC,
		Token: token, Log: filepath.Join(dir, "cdn.log"),
		Args: []string{"--cdn", "--cdn-secret", filepath.Join(dir, "data", cdn.SecretFile), "--cdn-cache", formatSize(cache)},
	})
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
		return fmt.Sprintf("%.2f", bench.MsPerMiB(d, size))
	}
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t\n", formatSize(r.Size), "direct", bench.MiBps(r.Size, r.Down),
			perMiB(r.DownCPU[0], r.Size), perMiB(r.DownCPU[1], r.Size), "-")
		for _, c := range r.viaCDN {
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t\n", formatSize(r.Size), "via CDN, "+c.Label, bench.MiBps(r.Size, c.Took),
				perMiB(c.CPU[0], r.Size), perMiB(c.CPU[1], r.Size), perMiB(c.CPU[2], r.Size))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "via CDN: gotd's downloader follows upload.fileCdnRedirect, decrypts AES-256-CTR and checks each 128 KiB range against the master's hashes; cold: every block pushed on upload.reuploadCdnFile; warm: from the CDN's cache.")
}
