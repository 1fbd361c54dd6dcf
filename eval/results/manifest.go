package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FormatVersion is the version of the stored-run format written by this
// package. Readers accept this version and older ones.
const FormatVersion = 1

// RunStatus is how a run stands or ended (Manifest.Status).
type RunStatus string

// Run statuses recorded in the manifest.
const (
	// RunRunning: the run is in progress, or its process ended before it
	// could record how the run ended.
	RunRunning RunStatus = "running"
	// RunCompleted: the run ended without error (its results may still
	// hold chain errors).
	RunCompleted RunStatus = "completed"
	// RunInterrupted: the run was interrupted before its end; Manifest.Error
	// says how.
	RunInterrupted RunStatus = "interrupted"
	// RunFailed: the run stopped on an error; Manifest.Error says why.
	RunFailed RunStatus = "failed"
	// RunPartial: a merge of shard runs (gavel merge --allow-partial)
	// that lacks shards or rows; Manifest.Error says which.
	RunPartial RunStatus = "partial"
)

// Mode says what a run did (Manifest.Mode).
type Mode string

// Modes recorded in the manifest. Manifests written before the mode was
// recorded have none: they are ModeRun runs.
const (
	// ModeRun ran a chain over a dataset (gavel run).
	ModeRun Mode = "run"
	// ModeScore scored outputs read from a file (gavel score --input).
	ModeScore Mode = "score"
	// ModeRegrade re-ran judges over a stored run's outputs (gavel score --run).
	ModeRegrade Mode = "regrade"
)

// Manifest describes one run: what was run, on what, with what, and how it
// ended. It is written as manifest.json when the run starts (status
// "running") and rewritten atomically when it ends.
type Manifest struct {
	FormatVersion int       `json:"format_version"`
	RunID         string    `json:"run_id"`
	Name          string    `json:"name"`
	Status        RunStatus `json:"status"`
	Error         string    `json:"error,omitempty"`
	SpecPath      string    `json:"spec_path"`
	// SpecDir is the absolute directory of the spec, against which its
	// relative paths were resolved (used to resume the run elsewhere).
	SpecDir  string    `json:"spec_dir,omitempty"`
	SpecHash string    `json:"spec_hash"`
	Spec     string    `json:"spec"`
	Dataset  Dataset   `json:"dataset"`
	Variants []Variant `json:"variants"`
	Chain    []Step    `json:"chain"`
	Judges   []Judge   `json:"judges"`
	// Prompts and Configs pin every prompt the spec took from the prompt
	// registry or a prompt file, and every registry model config, as they
	// were resolved when the run started: reading the stored spec again
	// (to resume, re-grade or report the run) uses these, not the
	// registry as it is now.
	Prompts     []Prompt    `json:"prompts,omitempty"`
	Configs     []ConfigPin `json:"configs,omitempty"`
	Repeat      int         `json:"repeat"`
	Concurrency int         `json:"concurrency"`
	Tool        Tool        `json:"tool"`
	Git         *Git        `json:"git,omitempty"`
	StartedAt   time.Time   `json:"started_at"`
	EndedAt     time.Time   `json:"ended_at,omitzero"`
	Totals      Totals      `json:"totals"`
	Shard       *Shard      `json:"shard,omitempty"`
	// Shards lists, for a run merged from shard runs (gavel merge), the
	// shards it was made of.
	Shards []ShardRun `json:"shards,omitempty"`
	// Resumes counts the times the run was resumed.
	Resumes int `json:"resumes,omitempty"`
	// Mode is run (a chain over a dataset), score (outputs read from a
	// file) or regrade (judges re-run over a stored run's outputs).
	Mode Mode `json:"mode,omitempty"`
	// RegradedFrom is the run id a regrade judged again; RegradedDir its
	// directory at the time.
	RegradedFrom string `json:"regraded_from,omitempty"`
	RegradedDir  string `json:"regraded_dir,omitempty"`
	// Metrics are corpus-level metrics (corpus BLEU, ...), which are not
	// means of per-output scores.
	Metrics []CorpusMetric `json:"metrics,omitempty"`
}

// CorpusMetric is one judge's corpus-level value for one variant.
type CorpusMetric struct {
	Variant     string  `json:"variant"`
	Judge       string  `json:"judge"`
	Type        string  `json:"type"`
	Value       float64 `json:"value"`
	Description string  `json:"description,omitempty"`
}

// Dataset identifies the examples a run used.
type Dataset struct {
	Path        string `json:"path"`
	Format      string `json:"format"`
	Fingerprint string `json:"fingerprint"`
	IDTemplate  string `json:"id,omitempty"`
	Examples    int    `json:"examples"`
	Limit       int    `json:"limit,omitempty"`
	Sample      int    `json:"sample,omitempty"`
	Seed        int64  `json:"seed,omitempty"`
	// Traces is the directory of collected spans a run of gavel score
	// --traces judged (absolute); Path is then the extract it scored.
	Traces string `json:"traces,omitempty"`
}

// Variant is one variant's fully resolved configuration.
type Variant struct {
	Name     string          `json:"name"`
	Model    string          `json:"model,omitempty"`
	Provider string          `json:"provider,omitempty"`
	BaseURL  string          `json:"base_url,omitempty"`
	Params   json.RawMessage `json:"params,omitempty"`
	Prompt   *Prompt         `json:"prompt,omitempty"`
	// Config is the registry model config the variant named, if any.
	Config *ConfigRef     `json:"config,omitempty"`
	Vars   map[string]any `json:"vars,omitempty"`
	Steps  []Step         `json:"steps"`
	Hash   string         `json:"hash"`
}

// Prompt is a resolved prompt: its messages (templates) and content hash,
// and where it came from. For a registry prompt (Source "registry"), Ref
// is the reference as the spec wrote it, Name, Version and Label what it
// resolved to (Label empty unless named by a label), Hash the version's
// content hash and File the registry file; for a prompt file (Source
// "file"), File is its path as the spec wrote it.
type Prompt struct {
	Source   string    `json:"source,omitempty"`
	Ref      string    `json:"ref,omitempty"`
	Name     string    `json:"name,omitempty"`
	Version  string    `json:"version,omitempty"`
	Label    string    `json:"label,omitempty"`
	File     string    `json:"file,omitempty"`
	Messages []Message `json:"messages"`
	Hash     string    `json:"hash"`
	// Config is the registry version's model config (model, provider,
	// params), when it has one; ConfigRef names it when it is a registry
	// config (NAME@VERSION).
	Config    map[string]any `json:"config,omitempty"`
	ConfigRef string         `json:"config_ref,omitempty"`
}

// ConfigPin is a registry model config as a run resolved it: its
// identity and the model, provider and params in effect.
type ConfigPin struct {
	ConfigRef
	Model    string         `json:"model,omitempty"`
	Provider string         `json:"provider,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
}

// ConfigRef is a model config of the prompt registry as a run resolved
// it: the reference as written, the name, version and label it resolved
// to, its content hash and file.
type ConfigRef struct {
	Ref     string `json:"ref"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Label   string `json:"label,omitempty"`
	Hash    string `json:"hash"`
	File    string `json:"file"`
}

// Message is one templated chat message of a prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Step is one resolved chain step.
type Step struct {
	Name   string         `json:"name"`
	Kind   string         `json:"kind"`
	Config map[string]any `json:"config,omitempty"`
}

// Judge is one resolved judge.
type Judge struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Scale is the judge's level of measurement, "binary", "ordinal" or
	// "continuous", when the judge or the spec declares it; "" means it
	// is inferred from the scores.
	Scale  string         `json:"scale,omitempty"`
	Config map[string]any `json:"config,omitempty"`
	Hash   string         `json:"hash"`
}

// Tool identifies the gavel build that wrote the run.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go,omitempty"`
}

// Git is the commit of the repository holding the spec, if any.
type Git struct {
	Commit string `json:"commit"`
	Branch string `json:"branch,omitempty"`
}

// Shard is the slice of examples a sharded run covered: shard Index (1 to
// Count) of Count, the examples whose id hashes there (see
// datasets.ShardOf).
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// LimitsWhole says the shard applied the spec's rate limits in full;
	// by default a shard takes its share, 1/Count of each (the limits
	// field says what it applied).
	LimitsWhole bool `json:"limits_whole,omitempty"`
	// Limits are the rate limits the shard applied, when the spec has any.
	Limits map[string]ShardLimit `json:"limits,omitempty"`
}

// ShardLimit is a rate limit as a shard applied it.
type ShardLimit struct {
	RPM         float64 `json:"rpm,omitempty"`
	TPM         float64 `json:"tpm,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
}

// ShardRun is one shard run of a merged run.
type ShardRun struct {
	Index  int       `json:"index"`
	Count  int       `json:"count"`
	RunID  string    `json:"run_id"`
	Dir    string    `json:"dir"`
	Status RunStatus `json:"status"`
}

// Totals are the run's counts and sums, filled when the run ends.
type Totals struct {
	Results          int64   `json:"results"`
	Errors           int64   `json:"errors"`
	Scores           int64   `json:"scores"`
	JudgeErrors      int64   `json:"judge_errors"`
	Spans            int64   `json:"spans"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	DurationMS       float64 `json:"duration_ms"`
	// CacheHits and CacheMisses count this session's model calls answered
	// from the cache and sent to a model.
	CacheHits   int64 `json:"cache_hits"`
	CacheMisses int64 `json:"cache_misses"`
	// CachedCostUSD is the part of CostUSD the cache answered (the
	// results' cached_cost_usd): what those calls cost when they were
	// made. A cost budget counts CostUSD less this.
	CachedCostUSD float64 `json:"cached_cost_usd,omitempty"`
}

// WriteManifest writes m to dir/manifest.json atomically (temporary file,
// fsync, rename), so a reader never sees a half-written manifest.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	b = append(b, '\n')
	path := filepath.Join(dir, ManifestFile)
	tmp, err := os.CreateTemp(dir, ".manifest-*.json")
	if err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("writing manifest: %w", err)
	}
	// CreateTemp makes the file 0600; a manifest is as readable as the
	// run's Parquet files.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("writing manifest: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("writing manifest: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing manifest: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	return nil
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading run %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if m.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("reading %s: format version %d is newer than this gavel understands (%d); upgrade gavel", path, m.FormatVersion, FormatVersion)
	}
	return &m, nil
}
