package cli

import (
	"context"
	"fmt"
	"net/http"
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
	run      string
	endpoint string
}

func newExportCmd(env *Env, runF func(context.Context, *Env, *exportOptions) error) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --otlp URL RUN_DIR",
		Short: "Send a stored run's traces, with its scores, to an OTLP/HTTP backend",
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
with the receiver's reason (exit 2).`,
		Example: `  $ gavel export --otlp http://127.0.0.1:4318 runs/nightly`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.run = args[0]
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runExport(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.endpoint, "otlp", "", "the OTLP/HTTP traces `URL`")
	return cmd
}

func runExport(ctx context.Context, env *Env, opts *exportOptions) error {
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
