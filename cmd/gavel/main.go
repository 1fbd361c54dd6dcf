// Command gavel evaluates LLM chains: it replays a dataset through a traced
// chain, judges every output, stores the run as Parquet and compares runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
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
	code := cli.Main(ctx, os.Args[1:], env)
	cancel()
	stop()
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
