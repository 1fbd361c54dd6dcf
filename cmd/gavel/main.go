// Command gavel evaluates LLM chains: it replays a dataset through a traced
// chain, judges every output, stores the run as Parquet and compares runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/gavel-eval/gavel/internal/cli"
)

// Set by -ldflags "-X main.version=... -X main.commit=..." (see the
// Makefile); buildVersion fills what they leave empty.
var (
	version = ""
	commit  = ""
)

// buildVersion returns the version and commit to report: the -ldflags
// values when set, else the module version and VCS revision Go recorded in
// the binary (`go install ...@v1.2.3` gives v1.2.3; a build in a checkout
// gives "(devel)" and its commit).
func buildVersion() (string, string) {
	v, c := version, commit
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v, c
	}
	if v == "" {
		v = info.Main.Version
	}
	if c == "" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				c = s.Value[:12]
			}
		}
	}
	return v, c
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	drain := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "gavel: interrupted: finishing what is in flight (a run saves what it has; press Ctrl-C again to stop at once)")
		close(drain)
		<-sigs
		// What is stored stays valid (chunks are committed atomically);
		// examples in flight are lost and run again by --resume.
		fmt.Fprintln(os.Stderr, "gavel: stopped; resume with: gavel run --resume RUN_DIR")
		os.Exit(cli.ExitInterrupted)
	}()
	v, c := buildVersion()
	env := &cli.Env{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Getenv:    os.Getenv,
		Now:       time.Now,
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Drain:     drain,
		Version:   v,
		Commit:    c,
	}
	stop := startProfile(os.Getenv("GAVEL_CPUPROFILE"))
	stopHeap := startHeapProfile(os.Getenv("GAVEL_MEMPROFILE"))
	code := cli.Main(ctx, os.Args[1:], env)
	cancel()
	stop()
	stopHeap()
	os.Exit(code)
}

// startProfile writes a CPU profile of the whole process to path, when
// set (GAVEL_CPUPROFILE, for `go tool pprof`), and returns what ends it.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gavel: GAVEL_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "gavel: GAVEL_CPUPROFILE:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// startHeapProfile writes a heap profile to path each time the live heap
// reaches a new high (checked every 250 ms, at least 10 % above the last
// one written), so the file holds what was live at the process's peak
// (GAVEL_MEMPROFILE, for `go tool pprof -sample_index=inuse_space`). It
// returns what ends it.
func startHeapProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var high uint64
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			live := sample[0].Value.Uint64()
			if live < high+high/10 {
				continue
			}
			high = live
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintln(os.Stderr, "gavel: GAVEL_MEMPROFILE:", err)
				return
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// writeHeapProfile replaces path with the current heap profile.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
