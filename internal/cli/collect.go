package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/otlp"
	"github.com/gavel-eval/gavel/traces"
)

// DefaultCollectAddr is where gavel collect listens: OTLP/HTTP's port, on
// loopback.
const DefaultCollectAddr = "127.0.0.1:4318"

type collectOptions struct {
	addr      string
	out       string
	maxBody   int64
	rollRows  int64
	rollEvery time.Duration
	ready     func(url string) // tests: told the URL once listening
}

func newCollectCmd(env *Env, runF func(context.Context, *Env, *collectOptions) error) *cobra.Command {
	opts := &collectOptions{}
	cmd := &cobra.Command{
		Use:   "collect [--addr 127.0.0.1:4318] [--out DIR]",
		Short: "Receive OpenTelemetry traces over OTLP/HTTP and store them as Parquet",
		Long: `Collect is an OTLP/HTTP trace receiver: point any OpenTelemetry SDK or
collector at http://ADDR (the standard /v1/traces path, protobuf or JSON,
optionally gzip) and it writes the spans to Parquet files of the
traces.parquet schema under --out (spans-<time>-<n>.parquet), rolling to a
new file every --roll-rows spans or --roll-every. A file appears under its
name only when complete. GenAI (gen_ai.*) and OpenInference attributes map
to gavel's span kinds (llm, chain, retriever, tool, embedding, agent),
inputs, outputs, models and token counts; service.name becomes the
variant column, session.id the example_id column.

It listens on loopback by default. A body over --max-body or a malformed
payload is answered 400 with the reason, and nothing of it is stored.
Ctrl-C (SIGINT) or SIGTERM stops it after the requests in flight; every
file is completed before it exits.`,
		Example: `  $ gavel collect --out traces/
  $ OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 node app.js`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runCollect(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", DefaultCollectAddr, "`host:port` to listen on")
	f.StringVar(&opts.out, "out", "traces", "`directory` of the Parquet files")
	f.Int64Var(&opts.maxBody, "max-body", otlp.DefaultMaxBody, "largest request body accepted, in `bytes`, after decompression")
	f.Int64Var(&opts.rollRows, "roll-rows", 100_000, "start a new file after this many `spans`")
	f.DurationVar(&opts.rollEvery, "roll-every", 10*time.Minute, "start a new file after this long (`duration`)")
	return cmd
}

func runCollect(ctx context.Context, env *Env, opts *collectOptions) error {
	sink, err := otlp.NewSink(opts.out, otlp.SinkOptions{MaxRows: opts.rollRows, MaxAge: opts.rollEvery, Now: env.Now})
	if err != nil {
		return withExitCode(err, ExitError)
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return withExitCode(fmt.Errorf("collect: %w", err), ExitError)
	}
	runID := "collect-" + nowOf(env).UTC().Format("20060102T150405Z")
	srv := &http.Server{
		Handler:           otlp.Handler(sink, otlp.HandlerOptions{MaxBody: opts.maxBody, RunID: runID}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(env.Stderr, "gavel: collecting OTLP traces at %s%s into %s (Ctrl-C to stop)\n", url, otlp.TracesPath, opts.out)
	if opts.ready != nil {
		opts.ready(url)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	tick := time.NewTicker(min(opts.rollEvery, time.Minute))
	defer tick.Stop()
	var serveErr error
	shutdown := false
loop:
	for {
		select {
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr = err
			}
			break loop
		case <-tick.C:
			if err := sink.Tick(); err != nil {
				fmt.Fprintln(env.Stderr, "gavel: collect:", err)
			}
		case <-ctx.Done():
			shutdown = true
		case <-env.Drain: // the first Ctrl-C or SIGTERM
			shutdown = true
		}
		if shutdown {
			shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := srv.Shutdown(shut)
			cancel()
			if err != nil {
				serveErr = err
			}
			break loop
		}
	}
	cerr := sink.Close()
	fmt.Fprintf(env.Stderr, "gavel: collect: %d spans in %d files\n", sink.Spans(), len(sink.Files()))
	for _, f := range sink.Files() {
		fmt.Fprintln(env.Stdout, f)
	}
	if serveErr != nil {
		return withExitCode(fmt.Errorf("collect: %w", serveErr), ExitError)
	}
	return withExitCode(cerr, ExitError)
}

func nowOf(env *Env) time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

type importOptions struct {
	files []string
	out   string
}

func newImportCmd(env *Env, runF func(context.Context, *Env, *importOptions) error) *cobra.Command {
	opts := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE... [--out DIR]",
		Short: "Store the spans of OTLP JSON files as Parquet, as gavel collect does",
		Long: `Import reads OTLP JSON files — one ExportTraceServiceRequest per file, or
one per line as the OpenTelemetry collector's file exporter writes — and
writes their spans to Parquet files under --out with the same mapping as
gavel collect. Every file is decoded before anything is written: a
malformed file is an error naming it (and its line), exit 2, and nothing
is stored.`,
		Example: `  $ gavel import otel-export.jsonl --out traces/`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.files = args
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runImport(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.out, "out", "traces", "`directory` of the Parquet files")
	return cmd
}

func runImport(_ context.Context, env *Env, opts *importOptions) error {
	runID := "import-" + nowOf(env).UTC().Format("20060102T150405Z")
	var all []traces.Record
	for _, f := range opts.files {
		tds, err := otlp.ReadFile(f)
		if err != nil {
			return withExitCode(fmt.Errorf("import: %w", err), ExitError)
		}
		for _, td := range tds {
			recs, err := otlp.Records(td, runID)
			if err != nil {
				return withExitCode(fmt.Errorf("import %s: %w", f, err), ExitError)
			}
			all = append(all, recs...)
		}
	}
	sink, err := otlp.NewSink(opts.out, otlp.SinkOptions{MaxRows: 1 << 40, MaxAge: 1 << 62, Now: env.Now})
	if err != nil {
		return withExitCode(err, ExitError)
	}
	werr := sink.Write(all)
	cerr := sink.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return withExitCode(fmt.Errorf("import: %w", err), ExitError)
	}
	fmt.Fprintf(env.Stderr, "gavel: import: %d spans from %d files\n", sink.Spans(), len(opts.files))
	for _, f := range sink.Files() {
		fmt.Fprintln(env.Stdout, f)
	}
	return nil
}
