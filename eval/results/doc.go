// Package results defines gavel's stored-run format: the manifest, the row
// types of results.parquet and scores.parquet, and their Parquet codecs. It
// is the contract between the runner that writes a run and the reports that
// read it, and between gavel and any other Parquet reader (DuckDB, Spark,
// pandas). Columns may be added; none may be renamed without a migration.
// Every string the writers store is valid UTF-8 (invalid bytes become
// U+FFFD and the row's details say so), and the columns that hold JSON
// have Parquet's JSON logical type.
//
// A run is a directory:
//
//	runs/<run-id>/manifest.json
//	runs/<run-id>/results.parquet   one row per variant × example × epoch
//	runs/<run-id>/scores.parquet    one row per result × judge
//	runs/<run-id>/traces.parquet    one row per span (package traces)
package results
