package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
)

// partPath is the per-variant merged part of one table.
func partPath(dir, table string, variant int) string {
	return filepath.Join(dir, ".parts", fmt.Sprintf("%s-%04d.parquet", table, variant))
}

func (r *runner) manifest(info datasets.Info, dir string) *results.Manifest {
	m := &results.Manifest{
		FormatVersion: results.FormatVersion,
		RunID:         r.runID,
		Name:          r.spec.Name,
		Status:        results.RunRunning,
		SpecPath:      r.spec.Path,
		SpecDir:       r.spec.Dir,
		SpecHash:      r.spec.Hash,
		Spec:          redactSpecSource(r.spec.Source),
		Dataset: results.Dataset{
			Path: r.dsOpts.Path, Format: info.Format, Fingerprint: info.Fingerprint, IDTemplate: r.dsOpts.ID,
			Examples: info.Count, Limit: r.dsOpts.Limit, Sample: r.dsOpts.Sample, Seed: r.dsOpts.Seed,
			Traces: r.tracesDir,
		},
		Repeat:      r.repeat,
		Concurrency: r.opts.Concurrency,
		Tool:        r.opts.Tool,
		Git:         gitInfo(r.spec.Dir),
		StartedAt:   r.now().UTC(),
		Mode:        r.mode,
		Shard:       r.shard,
	}
	if r.shard != nil && len(r.spec.Limits) > 0 {
		sh := *r.shard
		sh.Limits = map[string]results.ShardLimit{}
		for k, l := range shardLimits(r.spec.Limits, r.shard) {
			sh.Limits[k] = results.ShardLimit{RPM: l.RPM, TPM: l.TPM, Concurrency: l.Concurrency}
		}
		m.Shard = &sh
	}
	if r.regrade != nil {
		m.RegradedFrom = r.regrade.manifest.RunID
		m.RegradedDir = r.regrade.dir
	}
	if m.Tool.Name == "" {
		m.Tool = toolInfo()
	}
	for _, s := range r.spec.Chain {
		m.Chain = append(m.Chain, results.Step{Name: s.Name, Kind: s.Kind})
	}
	for _, v := range r.variants {
		m.Variants = append(m.Variants, v.manifest)
	}
	m.Prompts, m.Configs = r.spec.pins.Prompts, r.spec.pins.Configs
	m.Judges = []results.Judge{}
	for _, j := range r.judges {
		m.Judges = append(m.Judges, j.manifest)
	}
	return m
}

func toolInfo() results.Tool {
	t := results.Tool{Name: "gavel", Version: "(devel)"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		t.Go = bi.GoVersion
		if bi.Main.Version != "" {
			t.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				t.Commit = s.Value
			}
		}
	}
	return t
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// createDir creates the directory of a new run and returns it: Options.Out,
// else runs/<run-id>. A generated run id names a directory no other run
// has: it is created exclusively, and a taken id is replaced by a new one.
func (r *runner) createDir() (string, error) {
	if dir := r.opts.Out; dir != "" || r.opts.RunID != "" {
		if dir == "" {
			dir = filepath.Join("runs", r.runID)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("creating run directory: %w", err)
		}
		return dir, nil
	}
	if err := os.MkdirAll("runs", 0o755); err != nil {
		return "", fmt.Errorf("creating run directory: %w", err)
	}
	for attempt := 0; ; attempt++ {
		dir := filepath.Join("runs", r.runID)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) || attempt >= 100 {
			return "", fmt.Errorf("creating run directory: %w", err)
		}
		r.runID = NewRunID(r.now())
	}
}

// prepareDir creates dir's parts directory; the caller holds the run's
// lock. An existing run directory with a manifest is refused rather than
// overwritten.
func prepareDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, results.ManifestFile)); err == nil {
		return fmt.Errorf("run directory %s already holds a run; choose another --out or remove it", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".parts"), 0o755); err != nil {
		return fmt.Errorf("creating run directory: %w", err)
	}
	return nil
}

// compact concatenates each table's per-variant parts, in variant order,
// into the run's final Parquet files and removes the parts.
func (r *runner) compact(dir string, complete bool) error {
	for _, t := range []struct{ table, file string }{
		{"results", results.ResultsFile}, {"scores", results.ScoresFile}, {"traces", results.TracesFile},
	} {
		parts := make([]string, len(r.variants))
		for i := range r.variants {
			parts[i] = partPath(dir, t.table, i)
		}
		if pairs := filepath.Join(dir, ".parts", t.table+"-pairs.parquet"); fileExists(pairs) {
			parts = append(parts, pairs)
		}
		if err := results.Concat(filepath.Join(dir, t.file), parts); err != nil {
			return err
		}
	}
	if !complete {
		// An unfinished run keeps its chunks and journal for --resume; the
		// final files written now are readable meanwhile.
		return nil
	}
	return os.RemoveAll(filepath.Join(dir, ".parts"))
}
