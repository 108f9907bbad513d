package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/filedc/filedc/internal/admin"
	"github.com/filedc/filedc/internal/procstat"
	"github.com/filedc/filedc/internal/ready"
)

// ServerConfig is how StartServer runs "filedc serve".
type ServerConfig struct {
	Exe    string // the filedc binary (the bench passes its own executable)
	Data   string // --data: created if missing
	Listen string // --listen, the MTProto address
	HTTP   string // --http, the admin API; default 127.0.0.1:0
	DC     int    // --dc
	Token  string // --bot-token
	Log    string // the server's stderr goes to this file
	// CPUProfile, when set, is serve's --cpuprofile: the server writes it
	// when Stop interrupts it.
	CPUProfile string
	Args       []string // further flags of serve
}

// Server is a "filedc serve" process a benchmark started, in its own
// process so that its CPU and memory are its own to read.
type Server struct {
	Addr    string // the MTProto address it listens on
	DC      int
	KeyPath string        // its public key, PEM
	Admin   *admin.Client // its admin API, for profiles and memory; Addr is its --http address
	// StoreArgs are its --s3, --postgres and --redis flags: with any, a
	// transfer counts the round trips to them.
	StoreArgs []string

	cmd     *exec.Cmd
	log     *os.File
	exited  chan struct{} // closed once the process was reaped
	waitErr error
}

// StartServer runs "filedc serve" on c and waits until it is ready (its
// ready file names its addresses). On failure the error ends with the tail
// of its log.
func StartServer(ctx context.Context, c ServerConfig) (*Server, error) {
	logFile, err := os.Create(c.Log)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	if c.HTTP == "" {
		c.HTTP = "127.0.0.1:0"
	}
	readyPath := filepath.Join(c.Data, "ready.json")
	cmd := exec.Command(c.Exe, "serve", "--data", c.Data, "--listen", c.Listen,
		"--http", c.HTTP, "--dc", strconv.Itoa(c.DC), "--bot-token", c.Token, "--ready-file", readyPath)
	cmd.Args = append(cmd.Args, c.Args...)
	if c.CPUProfile != "" {
		cmd.Args = append(cmd.Args, "--cpuprofile", c.CPUProfile)
	}
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s serve: %w", c.Exe, err)
	}
	s := &Server{cmd: cmd, log: logFile, exited: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		io.Copy(io.Discard, stdout) // never let the server block on stdout
	}()
	go func() {
		<-read // Wait closes stdout: reads come first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	fail := func(err error) (*Server, error) {
		s.Stop()
		tail, _ := os.ReadFile(c.Log)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return nil, fmt.Errorf("filedc serve: %w\n%s", err, tail)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	info, err := ready.Wait(waitCtx, readyPath, s.exited)
	if err != nil {
		return fail(err)
	}
	s.Addr, s.KeyPath, s.DC = info.Listen, info.PublicKey, info.DC
	s.Admin = &admin.Client{Addr: info.HTTP, Token: admin.ReadToken(c.Data)}
	for i, a := range c.Args {
		if (a == "--s3" || a == "--postgres" || a == "--redis") && i+1 < len(c.Args) {
			s.StoreArgs = append(s.StoreArgs, a, c.Args[i+1])
		}
	}
	return s, nil
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop asks the server to stop (SIGINT: it finishes in-flight calls and
// writes its CPU profile, if it takes one) and kills it when it has not
// stopped after 15 s.
func (s *Server) Stop() error {
	defer s.log.Close()
	select {
	case <-s.exited:
		return s.exitError()
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		return s.exitError()
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("filedc serve did not stop within 15 s of SIGINT; killed")
	}
}

func (s *Server) exitError() error {
	if s.waitErr != nil {
		return fmt.Errorf("filedc serve: %w", s.waitErr)
	}
	return nil
}

// CPU is the server's CPU time (user+sys) so far, or -1 where /proc has none.
func (s *Server) CPU() time.Duration { return procstat.CPU(s.Pid()) }

// ResetPeakRSS resets the server's VmHWM and reports whether it could.
func (s *Server) ResetPeakRSS() bool { return procstat.ResetPeakRSS(s.Pid()) }

// PeakRSS returns the server's VmHWM in bytes, or -1 where /proc has none.
func (s *Server) PeakRSS() int64 { return procstat.PeakRSS(s.Pid()) }

// CPUTimes returns the CPU time (user+sys) used so far by this process,
// first, and by each server, or -1 where it is unknown.
func CPUTimes(srvs []*Server) []time.Duration {
	t := []time.Duration{procstat.SelfCPU()}
	for _, srv := range srvs {
		t = append(t, srv.CPU())
	}
	return t
}

// CPUSince is the CPU time each process used between two CPUTimes, or -1
// where either is unknown.
func CPUSince(before, after []time.Duration) []time.Duration {
	d := make([]time.Duration, len(before))
	for i := range d {
		d[i] = -1
		if before[i] >= 0 && after[i] >= 0 {
			d[i] = after[i] - before[i]
		}
	}
	return d
}
