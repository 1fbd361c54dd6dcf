package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/otlp"
	"github.com/gavel-eval/gavel/traces"
)

// exportBatch is how many spans one OTLP request of gavel export holds.
const exportBatch = 2000

type exportOptions struct {
	run         string
	runs        []string
	endpoint    string
	partitioned string
}

func newExportCmd(env *Env, runF func(context.Context, *Env, *exportOptions) error) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export (--otlp URL RUN_DIR | --partitioned DIR RUN_DIR...)",
		Short: "Send a stored run's traces, with its scores, to an OTLP/HTTP backend, or write runs as a partitioned data lake",
		Long: `Export sends the spans of a stored run's traces.parquet to an OTLP/HTTP
traces endpoint (Jaeger, Phoenix, Langfuse, Grafana Tempo, an OpenTelemetry
collector, or gavel collect), as protobuf in batches of 2,000 spans. Spans
keep their trace, span and parent ids; they carry the GenAI and
OpenInference attributes other tools read (span kind, input, output,
model, token counts) beside gavel's own (gavel.kind, gavel.run_id,
gavel.variant, gavel.example_id, gavel.epoch), and each score of the run is
a gavel.score event on its trace's root span (judge, score, pass, label,
reason).

--otlp is a traces URL (http://host:4318/v1/traces), or a base URL to
which /v1/traces is added; without it OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
else OTEL_EXPORTER_OTLP_ENDPOINT is used. A refused batch stops the export
with the receiver's reason (exit 2).

--partitioned DIR writes the runs instead as a data lake in the Hive
layout that Spark, DuckDB and Trino read with partition discovery:
DIR/results/run_id=RUN/variant=VARIANT/part-00000.parquet, and the same
for scores and traces; the files leave out the run_id and variant
columns, which the path holds. A partition that exists is not
overwritten (an error).`,
		Example: `  $ gavel export --otlp http://127.0.0.1:4318 runs/nightly
  $ gavel export --partitioned lake/ runs/*`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.run, opts.runs = args[0], args
			if opts.partitioned == "" && len(args) > 1 {
				return withExitCode(fmt.Errorf("export --otlp takes one run (got %d); --partitioned takes several", len(args)), ExitError)
			}
			if opts.partitioned != "" && opts.endpoint != "" {
				return withExitCode(fmt.Errorf("give --otlp or --partitioned, not both"), ExitError)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runExport(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.endpoint, "otlp", "", "the OTLP/HTTP traces `URL`")
	cmd.Flags().StringVar(&opts.partitioned, "partitioned", "", "write the runs into `dir` in the Hive layout (results/run_id=…/variant=…/part-00000.parquet, scores, traces)")
	return cmd
}

func runExport(ctx context.Context, env *Env, opts *exportOptions) error {
	if opts.partitioned != "" {
		return runPartition(env, opts)
	}
	endpoint := opts.endpoint
	if endpoint == "" {
		endpoint = env.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	}
	if endpoint == "" {
		endpoint = env.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if endpoint == "" {
		return withExitCode(fmt.Errorf("export: give --otlp URL (or set OTEL_EXPORTER_OTLP_ENDPOINT)"), ExitError)
	}
	url, err := otlp.TracesURL(endpoint)
	if err != nil {
		return withExitCode(fmt.Errorf("export: %w", err), ExitError)
	}
	if _, err := results.ReadManifest(opts.run); err != nil {
		return withExitCode(fmt.Errorf("export: %w", err), ExitError)
	}
	scores := map[string][]otlp.ScoreEvent{}
	nscores := 0
	if err := results.ReadScores(filepath.Join(opts.run, results.ScoresFile), func(s results.Score) error {
		ev := otlp.ScoreEvent{TraceID: s.TraceID, Judge: s.Judge, JudgeType: s.JudgeType, Score: s.Score, Pass: s.Pass, Status: string(s.Status)}
		if s.Label != nil {
			ev.Label = *s.Label
		}
		if s.Reason != nil {
			ev.Reason = *s.Reason
		}
		scores[s.TraceID] = append(scores[s.TraceID], ev)
		nscores++
		return nil
	}); err != nil {
		return withExitCode(fmt.Errorf("export: %w", err), ExitError)
	}
	client := &http.Client{Timeout: time.Minute}
	var batch []traces.Record
	sent := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		td, err := otlp.ToTraces(batch, scores)
		if err != nil {
			return err
		}
		if err := otlp.Post(ctx, client, url, td); err != nil {
			return err
		}
		sent += len(batch)
		batch = batch[:0]
		return nil
	}
	err = traces.ReadFile(filepath.Join(opts.run, results.TracesFile), func(r traces.Record) error {
		batch = append(batch, r)
		if len(batch) >= exportBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return withExitCode(fmt.Errorf("export: %w (%d spans sent before)", err, sent), ExitError)
	}
	fmt.Fprintf(env.Stderr, "gavel: export: %d spans and %d scores of %s sent to %s\n", sent, nscores, opts.run, url)
	return nil
}

// exportAfterRun sends a finished run's traces to --otlp-endpoint, or to
// OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) when set. The run is
// stored whatever happens: a failed export is a warning.
func exportAfterRun(ctx context.Context, env *Env, endpoint, dir string) {
	if endpoint == "" && env.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" && env.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		return
	}
	if err := runExport(ctx, env, &exportOptions{run: dir, endpoint: endpoint}); err != nil {
		fmt.Fprintf(env.Stderr, "gavel: warning: the run is stored, but %v\n", err)
	}
}

// runPartition writes the runs' tables into opts.partitioned, Hive-style.
func runPartition(env *Env, opts *exportOptions) error {
	var total int64
	for _, run := range opts.runs {
		if _, err := results.ReadManifest(run); err != nil {
			return withExitCode(fmt.Errorf("export: %w", err), ExitError)
		}
		for _, t := range []struct{ file, table string }{
			{results.ResultsFile, "results"}, {results.ScoresFile, "scores"}, {results.TracesFile, "traces"},
		} {
			src := filepath.Join(run, t.file)
			if _, err := os.Stat(src); err != nil {
				continue // a run without traces
			}
			n, err := results.Partition(src, filepath.Join(opts.partitioned, t.table))
			if err != nil {
				return withExitCode(fmt.Errorf("export: %w", err), ExitError)
			}
			total += n
		}
	}
	fmt.Fprintf(env.Stderr, "gavel: wrote %d rows of %d runs into %s\n", total, len(opts.runs), opts.partitioned)
	return nil
}
