// Package eval loads an evaluation spec and runs it into a stored run.
//
// A run flows through the files of this package in order:
//
//   - spec.go decodes the YAML (LoadSpec) with the strict decoder of
//     yamlstrict.go: unknown keys and type errors name the file, line,
//     column and field path.
//   - run.go is the public API (Run, Options) and the run's lifecycle;
//     plan.go and chain.go compile each variant's chain of steps and each
//     judge, with models resolved by the llm router.
//   - validate.go streams the dataset once before anything is called:
//     malformed rows, duplicate ids and every template of every step and
//     judge rendered for every example.
//   - rundir.go creates the run directory and writes the manifest.
//   - execute.go is the concurrent engine: jobs (variant × example × epoch)
//     dispatched example-major under an errgroup limit, a token window that
//     bounds how far dispatch runs ahead of the oldest unwritten job, and
//     the ordered writer that stores outcomes in sequence order.
//   - job.go runs one job: the variant's chain of steps, then its judges.
//   - journal.go keeps the output as journaled Parquet chunks and merges
//     them at the end (with eval/results) into results.parquet,
//     scores.parquet and traces.parquet; pairs.go runs the pairwise judges
//     over the merged parts; resume.go continues an interrupted run from
//     its chunks.
//   - score.go scores outputs that already exist (gavel score) and
//     re-grades stored runs with the same engine.
//
// Failures are data: a failed step becomes a result row with its error and
// an undecided judge a score row with status judge_error. Only failures
// that invalidate the whole run (the disk, the dataset) stop it.
package eval
