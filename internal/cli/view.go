package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/report/view"
)

// defaultViewPort is the viewer's port unless --port or --addr say
// otherwise; when it is taken, the system picks a free one.
const defaultViewPort = 7840

// viewOptions are what gavel view's flags and arguments say.
type viewOptions struct {
	dirs       []string // nil: runs, or the current directory when there is none
	port       int
	portSet    bool // --port was given
	addr       string
	maxText    int
	allowHosts []string
}

// newViewCmd is gavel view. RunE fills opts, then calls runF (runView when
// nil).
func newViewCmd(env *Env, runF func(context.Context, *Env, *viewOptions) error) *cobra.Command {
	opts := &viewOptions{}
	cmd := &cobra.Command{
		Use:   "view [RUN_DIR ...]",
		Short: "Browse stored runs and collected traces in a local web viewer: trace tables, timelines, dashboards, comparisons",
		Long: `View serves the HTML report's interface from a local HTTP server: the list of
every run found in or under the given directories (default: runs, or the
current directory when there is none), each run's trace table, timelines
and architecture, and the comparison of any two runs or variants. Pages
are built from the runs' Parquet files when asked for, and a trace's spans
are read when it is opened.

Directories of collected spans (gavel collect --out, gavel import --out,
observe's Dir) are listed too: each has a trace table with user,
session, service, model and status filters, timelines, and a dashboard of
the traffic per hour or day (traces, error rate, tokens, cost, latency
percentiles, the mean scores of the gavel score --traces runs of that
directory found beside it). An application's spans that continue a
run's traces (an http or exec step passed them its traceparent) show in
that run's timelines, under the step.

The viewer is read-only and serves nothing outside the given directories
(a run file that is a symbolic link leading out of them is refused); pages
show paths relative to them. It listens on 127.0.0.1 only and answers only
requests addressed to 127.0.0.1, localhost or [::1] on its port, so that a
web page cannot reach it through DNS rebinding. --addr makes it listen
elsewhere (anyone who can reach that address can read the runs); it then
answers requests addressed to the address they reached, and to the names
given with --allow-host (NAME on its port, or NAME:PORT). Stop it with
Ctrl-C.`,
		Example: `  $ gavel view
  $ gavel view runs/ --port 9000
  $ gavel view runs/main runs/pr-123
  $ gavel view runs/ --addr 0.0.0.0:8080 --allow-host evals.lan`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.dirs = args
			}
			opts.portSet = cmd.Flags().Changed("port")
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runView(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().IntVar(&opts.port, "port", defaultViewPort, "`port` to listen on, on 127.0.0.1 (0 picks a free one)")
	cmd.Flags().StringVar(&opts.addr, "addr", "", "listen on this `host:port` instead (e.g. 0.0.0.0:8080 to share on a network)")
	cmd.Flags().StringArrayVar(&opts.allowHosts, "allow-host", nil, "also answer requests whose Host header is this `name` (on the listening port) or name:port (repeatable)")
	cmd.Flags().IntVar(&opts.maxText, "max-text", 0, "longest text, in `characters`, shown of one input or output (default 20000)")
	return cmd
}

// runView serves the runs under opts.dirs until ctx ends or env.Drain
// closes. The address is checked after the runs are found, so that runs
// that cannot be read are the error reported first.
func runView(ctx context.Context, env *Env, opts *viewOptions) error {
	args := opts.dirs
	if len(args) == 0 {
		args = []string{"."}
		if st, err := os.Stat("runs"); err == nil && st.IsDir() {
			args = []string{"runs"}
		}
	}
	cost, err := priceTable("")
	if err != nil {
		return withExitCode(err, ExitError)
	}
	srv, err := view.New(args, view.Options{Generator: generator(env), MaxText: opts.maxText, AllowHosts: opts.allowHosts, Cost: cost})
	if err != nil {
		return withExitCode(err, ExitError)
	}
	listen := opts.addr
	fallback := false
	switch {
	case listen != "" && opts.portSet:
		return withExitCode(errors.New("--addr and --port both set the address: give one"), ExitError)
	case listen == "":
		listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.port))
		fallback = !opts.portSet
	}
	if host, _, err := net.SplitHostPort(listen); err != nil {
		return withExitCode(fmt.Errorf("--addr %q: %w", opts.addr, err), ExitError)
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(env.Stderr, "gavel: warning: listening on %s: anyone who can reach it can read these runs (requests must name the address they reach or a --allow-host name)\n", listen)
	}
	if fallback {
		// The default port may be taken (another viewer): let the
		// system pick one rather than fail.
		if ln, err := net.Listen("tcp", listen); err != nil {
			listen = "127.0.0.1:0"
		} else {
			ln.Close()
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if env.Drain != nil {
		go func() {
			select {
			case <-env.Drain:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	n, dirs := 0, 0
	for _, e := range srv.Runs() {
		if e.Files > 0 {
			dirs++
		} else {
			n++
		}
	}
	runs := fmt.Sprintf("%d runs", n)
	if n == 1 {
		runs = "1 run"
	}
	switch {
	case dirs == 1:
		runs += " and 1 directory of collected traces"
	case dirs > 1:
		runs += fmt.Sprintf(" and %d directories of collected traces", dirs)
	}
	err = srv.Serve(ctx, listen, func(url string) {
		fmt.Fprintf(env.Stdout, "gavel: serving %s in %s at %s (Ctrl-C stops)\n", runs, strings.Join(args, ", "), url)
		fmt.Fprintln(env.Stdout, url)
	})
	if err != nil {
		return withExitCode(err, ExitError)
	}
	return nil
}

// generator names this build in pages.
func generator(env *Env) string {
	if env.Version == "" {
		return "gavel"
	}
	return "gavel " + env.Version
}
