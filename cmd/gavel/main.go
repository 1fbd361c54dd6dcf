// Command gavel evaluates LLM chains: it replays a dataset through a traced
// chain, judges every output, stores the run as Parquet and compares runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/gavel-eval/gavel/internal/cli"
)

// Set by -ldflags "-X main.version=... -X main.commit=...".
var (
	version = ""
	commit  = ""
)

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
	env := &cli.Env{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Getenv:    os.Getenv,
		Now:       time.Now,
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Drain:     drain,
		Version:   version,
		Commit:    commit,
	}
	code := cli.Main(ctx, os.Args[1:], env)
	cancel()
	os.Exit(code)
}
