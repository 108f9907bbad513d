package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/filedc/filedc/internal/bench"
)

// stageRow is one row of a stage table: the server's CPU of a measure,
// profiled by stage and from /proc, over the bytes it moved.
type stageRow struct {
	labels []string
	split  *bench.Split
	cpu    time.Duration
	bytes  int64
}

// writeStageTable writes rows under the heads of their labels, in ms per MiB.
func writeStageTable(w io.Writer, heads []string, rows []stageRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, h := range heads {
		fmt.Fprintf(tw, "%s\t", h)
	}
	for st := range bench.NumStages {
		fmt.Fprintf(tw, "%s\t", st)
	}
	fmt.Fprintln(tw, "profiled\tCPU (/proc)\t")
	for _, r := range rows {
		for _, l := range r.labels {
			fmt.Fprintf(tw, "%s\t", l)
		}
		for st := range bench.NumStages {
			fmt.Fprintf(tw, "%.2f\t", bench.MsPerMiB(r.split.Time[st], r.bytes))
		}
		fmt.Fprintf(tw, "%.2f\t%.2f\t\n", bench.MsPerMiB(r.split.Total, r.bytes), bench.MsPerMiB(r.cpu, r.bytes))
	}
	tw.Flush()
}

// printStages prints the server's CPU per MiB by stage, for each size and
// direction, beside the floors measured in the same run.
func printStages(w io.Writer, dir string, results []benchResult) {
	if len(results) == 0 || results[0].UpStages == nil {
		return
	}
	fmt.Fprintf(w, "\nserver CPU by stage, ms per MiB (profiles in %s; go tool pprof FILE):\n", dir)
	var rows []stageRow
	for _, r := range results {
		rows = append(rows,
			stageRow{labels: []string{formatSize(r.Size), "upload"}, split: r.UpStages, cpu: r.UpCPU[1], bytes: r.Size},
			stageRow{labels: []string{formatSize(r.Size), "download"}, split: r.DownStages, cpu: r.DownCPU[1], bytes: r.Size})
	}
	writeStageTable(w, []string{"size", "direction"}, rows)
	c := results[0].floors
	upGoal, downGoal := bench.UploadGoalOverFloor*c.UploadFloor(), bench.DownloadGoalOverFloor*c.DownloadFloor()
	fmt.Fprintf(w, `floors, ms per MiB, measured in this run:
  transport crypto: %.2f receiving (AES-256-IGE decrypt and SHA-256 msg_key in one pass, one core), %.2f sending (encrypting while the next message is hashed for its msg_key)
  content hashing: %.2f for one SHA-256 pass over the content (the server hashes the whole file and its 128 KiB ranges in one pass; MD5 too on the small path)
upload goal: at most %g x (receiving + one SHA-256 pass) = %.2f; download goal: at most %g x sending = %.2f
`, 1000/c.Receive, 1000/c.Send, 1000/c.SHA256, bench.UploadGoalOverFloor, upGoal, bench.DownloadGoalOverFloor, downGoal)
	for _, r := range results {
		fmt.Fprintf(w, "  %s: upload %.2f (%.2f of the goal), download %.2f (%.2f of the goal), server CPU from /proc\n", formatSize(r.Size),
			bench.MsPerMiB(r.UpCPU[1], r.Size), bench.MsPerMiB(r.UpCPU[1], r.Size)/upGoal,
			bench.MsPerMiB(r.DownCPU[1], r.Size), bench.MsPerMiB(r.DownCPU[1], r.Size)/downGoal)
	}
}
