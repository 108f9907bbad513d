package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/filedc/filedc/internal/bench"
)

// stageProfiles takes the servers' CPU profiles of each transfer apart
// (bench --profile DIR), through their admin API, keeps them in DIR and
// splits them into the stages of the data path.
type stageProfiles struct {
	dir  string
	srvs []*benchServer
}

func (p *stageProfiles) start(ctx context.Context) error {
	if p == nil {
		return nil
	}
	for _, srv := range p.srvs {
		if err := srv.admin.StartCPUProfile(ctx); err != nil {
			return fmt.Errorf("starting the server's CPU profile: %w", err)
		}
	}
	return nil
}

// stop ends the profiles, writes them as DIR/NAME.cpu.pprof (one a
// process, numbered when there are several) and returns their stages,
// summed over the processes.
func (p *stageProfiles) stop(ctx context.Context, name string) (*bench.Split, error) {
	if p == nil {
		return nil, nil
	}
	var sum bench.Split
	for i, srv := range p.srvs {
		data, err := srv.admin.StopCPUProfile(ctx)
		if err != nil {
			return nil, fmt.Errorf("stopping the server's CPU profile: %w", err)
		}
		file := name + ".cpu.pprof"
		if len(p.srvs) > 1 {
			file = fmt.Sprintf("%s.process%d.cpu.pprof", name, i+1)
		}
		if err := os.WriteFile(filepath.Join(p.dir, file), data, 0o644); err != nil {
			return nil, err
		}
		s, err := bench.SplitProfile(data)
		if err != nil {
			return nil, err
		}
		for st := range s.Time {
			sum.Time[st] += s.Time[st]
		}
		sum.Total += s.Total
	}
	return &sum, nil
}

// allocs writes the servers' allocation profiles (every allocation since
// they started) as DIR/NAME.allocs.pprof.
func (p *stageProfiles) allocs(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	for i, srv := range p.srvs {
		data, err := srv.admin.AllocsProfile(ctx)
		if err != nil {
			return fmt.Errorf("the server's allocation profile: %w", err)
		}
		file := name + ".allocs.pprof"
		if len(p.srvs) > 1 {
			file = fmt.Sprintf("%s.process%d.allocs.pprof", name, i+1)
		}
		if err := os.WriteFile(filepath.Join(p.dir, file), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

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
			fmt.Fprintf(tw, "%.2f\t", msPerMiB(r.split.Time[st], r.bytes))
		}
		fmt.Fprintf(tw, "%.2f\t%.2f\t\n", msPerMiB(r.split.Total, r.bytes), msPerMiB(r.cpu, r.bytes))
	}
	tw.Flush()
}

// printStages prints the server's CPU per MiB by stage, for each size and
// direction, beside the floors measured in the same run.
func printStages(w io.Writer, dir string, results []benchResult) {
	if len(results) == 0 || results[0].upStages == nil {
		return
	}
	fmt.Fprintf(w, "\nserver CPU by stage, ms per MiB (profiles in %s; go tool pprof FILE):\n", dir)
	var rows []stageRow
	for _, r := range results {
		rows = append(rows,
			stageRow{labels: []string{formatSize(r.size), "upload"}, split: r.upStages, cpu: r.upCPU[1], bytes: r.size},
			stageRow{labels: []string{formatSize(r.size), "download"}, split: r.downStages, cpu: r.downCPU[1], bytes: r.size})
	}
	writeStageTable(w, []string{"size", "direction"}, rows)
	c := results[0].ceil
	fmt.Fprintf(w, `floors, ms per MiB, measured in this run:
  transport crypto: %.2f receiving (AES-256-IGE decrypt + SHA-256 msg_key, one core), %.2f sending (encrypt + msg_key)
  content hashing: %.2f for one SHA-256 pass over the content (the server makes two: the whole file and its 128 KiB ranges; MD5 too on the small path)
upload goal: at most 1.15 x (receiving + one SHA-256 pass) = %.2f; download goal: at most 1.25 x sending = %.2f
`, 1000/c.receive, 1000/c.send, 1000/c.sha256, 1.15*(1000/c.receive+1000/c.sha256), 1.25*1000/c.send)
	for _, r := range results {
		fmt.Fprintf(w, "  %s: upload %.2f (%.2f of the goal), download %.2f (%.2f of the goal), server CPU from /proc\n", formatSize(r.size),
			msPerMiB(r.upCPU[1], r.size), msPerMiB(r.upCPU[1], r.size)/(1.15*(1000/c.receive+1000/c.sha256)),
			msPerMiB(r.downCPU[1], r.size), msPerMiB(r.downCPU[1], r.size)/(1.25*1000/c.send))
	}
}
