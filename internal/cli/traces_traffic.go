package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/traffic"
)

// isTraffic reports whether gavel traces shows collected traffic (a
// directory without a run manifest, or --dashboard) rather than a run's
// trace trees.
func (o *tracesOptions) isTraffic() bool {
	if o.dashboard {
		return true
	}
	_, err := os.Stat(filepath.Join(o.run, results.ManifestFile))
	return err != nil
}

// checkTrafficFlags refuses flags that do not go together.
func checkTrafficFlags(o *tracesOptions) error {
	if _, err := traffic.ParsePeriod(o.per); err != nil {
		return fmt.Errorf("--per: %w", err)
	}
	if _, err := traffic.ParseDimension(o.by); err != nil {
		return fmt.Errorf("--by: %w", err)
	}
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: want text or json", o.format)
	}
	if o.trace != "" && o.dashboard {
		return errors.New("--trace prints one trace and --dashboard the traffic: give one")
	}
	return nil
}

// priceTable prices collected model calls: the file's prices first, then
// the built-in ones.
func priceTable(file string) (traffic.CostFunc, error) {
	builtin := llm.DefaultPrices()
	var own llm.PriceTable
	if file != "" {
		var err error
		if own, err = llm.ReadPricesFile(file); err != nil {
			return nil, fmt.Errorf("--prices-file: %w", err)
		}
	}
	return func(model string, p, c int64) (float64, bool) {
		u := llm.Usage{PromptTokens: int(p), CompletionTokens: int(c)}
		if own != nil {
			if usd, ok := own.Cost(model, u); ok {
				return usd, true
			}
		}
		return builtin.Cost(model, u)
	}, nil
}

// runTraffic prints the trace table, one trace or the dashboard of the
// spans in opts.run.
func runTraffic(ctx context.Context, env *Env, opts *tracesOptions) error {
	if opts.example != "" || len(opts.variants) > 0 || opts.epochSet {
		if _, err := os.Stat(filepath.Join(opts.run, results.ManifestFile)); err != nil {
			return withExitCode(fmt.Errorf("%s is not a run (no %s): --example, --variant and --epoch select a run's traces; collected traffic is filtered with --user, --session, --service and --model", opts.run, results.ManifestFile), ExitError)
		}
	}
	if _, err := os.Stat(opts.run); errors.Is(err, fs.ErrNotExist) {
		return withExitCode(fmt.Errorf("%s does not exist: give a run (a directory holding %s) or a directory of collected spans", opts.run, results.ManifestFile), ExitError)
	}
	files, err := traffic.SpanFiles(opts.run)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	color := env.StdoutTTY && env.Getenv("NO_COLOR") == ""
	if opts.trace != "" {
		o := report.TreeOptions{Full: opts.full, Width: opts.width, Color: color}
		if err := report.WriteTrafficTrace(env.Stdout, files, opts.trace, o); err != nil {
			return withExitCode(err, ExitError)
		}
		return nil
	}
	cost, err := priceTable(opts.pricesFile)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	limit := opts.limit
	if limit == 0 {
		limit = -1 // every trace
	}
	ro := traffic.Options{
		Filter: traffic.Filter{User: opts.user, Session: opts.session, Service: opts.service, Model: opts.model, ErrorsOnly: opts.errorsOnly},
		Limit:  limit, Scores: opts.scores, Cost: cost,
	}
	if opts.dashboard && opts.html == "" {
		ro.Limit = 1 // the table is not shown
	}
	if opts.html != "" && !opts.limitSet {
		ro.Limit = 500
	}
	sum, err := traffic.Read(ctx, files, ro)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if opts.html != "" {
		page := report.TrafficPage{Dir: opts.run, Files: files, Scores: opts.scores}
		write := func(w io.Writer) error {
			return report.WriteTrafficHTML(w, sum, page, report.HTMLOptions{Generator: generator(env)})
		}
		if opts.html == "-" {
			err = write(env.Stdout)
		} else {
			err = writeFile(opts.html, func(f *os.File) error { return write(f) })
		}
		if err != nil {
			return withExitCode(err, ExitError)
		}
		return nil
	}
	to := report.TrafficTextOptions{Color: color, MoreHint: "see them all with --limit 0, or narrow with --user, --session, --service, --model or --errors"}
	if opts.dashboard {
		per, _ := traffic.ParsePeriod(opts.per)
		by, _ := traffic.ParseDimension(opts.by)
		d := sum.Dashboard(per, by)
		if opts.format == "json" {
			return writeJSONOut(env, d)
		}
		if err := report.WriteTrafficDashboard(env.Stdout, d, to); err != nil {
			return withExitCode(err, ExitError)
		}
		return nil
	}
	if opts.format == "json" {
		return writeJSONOut(env, sum)
	}
	if err := report.WriteTrafficTable(env.Stdout, sum, to); err != nil {
		return withExitCode(err, ExitError)
	}
	return nil
}

func writeJSONOut(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return withExitCode(err, ExitError)
	}
	return nil
}
