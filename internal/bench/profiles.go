package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Profiles takes the servers' CPU profiles of each measure apart, through
// their admin API, keeps them in Dir and splits them into the stages of the
// data path. A nil *Profiles takes none.
type Profiles struct {
	Dir     string
	Servers []*Server

	written map[string]int // file names, for a size measured twice
}

// Start starts a CPU profile of every server.
func (p *Profiles) Start(ctx context.Context) error {
	if p == nil {
		return nil
	}
	for _, srv := range p.Servers {
		if err := srv.Admin.StartCPUProfile(ctx); err != nil {
			return fmt.Errorf("starting the server's CPU profile: %w", err)
		}
	}
	return nil
}

// Stop ends the profiles, writes them as DIR/NAME.cpu.pprof (one a
// process, numbered when there are several) and returns their stages,
// summed over the processes; nil without profiles.
func (p *Profiles) Stop(ctx context.Context, name string) (*Split, error) {
	if p == nil {
		return nil, nil
	}
	var sum Split
	for i, srv := range p.Servers {
		data, err := srv.Admin.StopCPUProfile(ctx)
		if err != nil {
			return nil, fmt.Errorf("stopping the server's CPU profile: %w", err)
		}
		if err := os.WriteFile(filepath.Join(p.Dir, p.file(name, i, "cpu")), data, 0o644); err != nil {
			return nil, err
		}
		s, err := SplitProfile(data)
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

// Allocs writes the servers' allocation profiles (every allocation since
// they started) as DIR/NAME.allocs.pprof.
func (p *Profiles) Allocs(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	for i, srv := range p.Servers {
		data, err := srv.Admin.AllocsProfile(ctx)
		if err != nil {
			return fmt.Errorf("the server's allocation profile: %w", err)
		}
		if err := os.WriteFile(filepath.Join(p.Dir, p.file(name, i, "allocs")), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// file names process i's profile of a kind: NAME.KIND.pprof, or
// NAME.processN.KIND.pprof when there are several processes; a name taken
// before (the same size measured again) gets -2, -3 and so on.
func (p *Profiles) file(name string, i int, kind string) string {
	f := name + "." + kind + ".pprof"
	if len(p.Servers) > 1 {
		f = fmt.Sprintf("%s.process%d.%s.pprof", name, i+1, kind)
	}
	if p.written == nil {
		p.written = map[string]int{}
	}
	p.written[f]++
	if n := p.written[f]; n > 1 {
		return fmt.Sprintf("%s-%d.%s", name, n, f[len(name)+1:])
	}
	return f
}
