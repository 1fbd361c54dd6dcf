// Package datasets loads a fixed evaluation dataset as a stream of examples.
//
// A dataset is a JSONL, CSV or Parquet file. [Open] returns a [Reader] whose
// [Reader.Next] yields one [Example] at a time without ever holding the whole
// file in memory: JSONL and CSV are read line by line, Parquet in record
// batches of a bounded size. Every example carries a stable id (a content
// hash, a field, or a text/template over the fields), its position among the
// yielded examples and its line (or row) number in the file, so that every
// error and every result can be traced back to the file.
//
// Ids must be unique within a file; a duplicate is reported with both lines.
// [Options.Sample] chooses a deterministic subset that depends only on the
// seed and the ids (not on file order), and [Options.Limit] keeps the first
// examples after sampling. [Scan] validates a whole file in one streaming
// pass and [Fingerprint] hashes its bytes, so a run can record exactly which
// data it used.
//
// Strings are read as the format gives them: CSV fields and Parquet strings
// byte for byte, JSONL strings as JSON decoding gives them (each invalid
// byte replaced by U+FFFD). With [Options.StrictUTF8] a string that is not
// valid UTF-8 is a [ParseError] naming the file, line and field.
//
// The package imports nothing else from this module.
package datasets
