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

func newViewCmd(env *Env) *cobra.Command {
	var port int
	var addr string
	var maxText int
	var allowHosts []string
	cmd := &cobra.Command{
		Use:   "view [RUN_DIR ...]",
		Short: "Browse stored runs in a local web viewer: trace tables, timelines, architecture, comparisons",
		Long: `View serves the HTML report's interface from a local HTTP server: the list of
every run found in or under the given directories (default: runs, or the
current directory when there is none), each run's trace table, timelines
and architecture, and the comparison of any two runs or variants. Pages
are built from the runs' Parquet files when asked for, and a trace's spans
are read when it is opened.

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
			if len(args) == 0 {
				args = []string{"."}
				if st, err := os.Stat("runs"); err == nil && st.IsDir() {
					args = []string{"runs"}
				}
			}
			srv, err := view.New(args, view.Options{Generator: generator(env), MaxText: maxText, AllowHosts: allowHosts})
			if err != nil {
				return withExitCode(err, ExitError)
			}
			listen := addr
			fallback := false
			switch {
			case listen != "" && cmd.Flags().Changed("port"):
				return withExitCode(errors.New("--addr and --port both set the address: give one"), ExitError)
			case listen == "":
				listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
				fallback = !cmd.Flags().Changed("port")
			}
			if host, _, err := net.SplitHostPort(listen); err != nil {
				return withExitCode(fmt.Errorf("--addr %q: %w", addr, err), ExitError)
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
			ctx, cancel := context.WithCancel(cmd.Context())
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
			n := len(srv.Runs())
			runs := fmt.Sprintf("%d runs", n)
			if n == 1 {
				runs = "1 run"
			}
			err = srv.Serve(ctx, listen, func(url string) {
				fmt.Fprintf(env.Stdout, "gavel: serving %s in %s at %s (Ctrl-C stops)\n", runs, strings.Join(args, ", "), url)
				fmt.Fprintln(env.Stdout, url)
			})
			if err != nil {
				return withExitCode(err, ExitError)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&port, "port", defaultViewPort, "`port` to listen on, on 127.0.0.1 (0 picks a free one)")
	cmd.Flags().StringVar(&addr, "addr", "", "listen on this `host:port` instead (e.g. 0.0.0.0:8080 to share on a network)")
	cmd.Flags().StringArrayVar(&allowHosts, "allow-host", nil, "also answer requests whose Host header is this `name` (on the listening port) or name:port (repeatable)")
	cmd.Flags().IntVar(&maxText, "max-text", 0, "longest text, in `characters`, shown of one input or output (default 20000)")
	return cmd
}

// generator names this build in pages.
func generator(env *Env) string {
	if env.Version == "" {
		return "gavel"
	}
	return "gavel " + env.Version
}
