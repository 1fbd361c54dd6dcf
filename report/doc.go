// Package report reads stored runs and renders what they say: per-variant
// summaries (ForRun), paired comparisons of two variants or two runs
// (CompareVariants, CompareRuns) with their gates, trace trees, and the renderers for text, Markdown, JSON,
// JUnit XML and the self-contained HTML page. It reads
// the stored-run files only (package eval/results and traces), never the
// runner, so every report works on any run directory, including runs
// written by other versions of gavel.
package report
