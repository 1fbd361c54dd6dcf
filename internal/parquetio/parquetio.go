// Package parquetio holds what gavel's Parquet files have in common: the
// writer configuration (zstd compression, gavel as the creator) and the way
// a file is opened for reading. traces.parquet, results.parquet and
// scores.parquet all go through it, so they are written and read alike. It
// is a leaf: it imports nothing of gavel's.
package parquetio

import (
	"fmt"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// codec compresses every gavel Parquet file. It is shared because it pools
// its zstd encoders: each one allocates megabytes of tables, and a run
// writes many small files (its journaled chunks), so a codec per file
// would build a new encoder for each of them. It holds no configuration
// that changes and is safe for concurrent use.
var codec = &zstd.Codec{}

// WriterConfig returns the configuration of a writer of a gavel Parquet
// file: zstd-compressed, created by "gavel", with opts (a schema, for
// example) applied too.
func WriterConfig(opts ...parquet.WriterOption) (*parquet.WriterConfig, error) {
	all := append([]parquet.WriterOption{parquet.Compression(codec), parquet.CreatedBy("gavel", "", "")}, opts...)
	return parquet.NewWriterConfig(all...)
}

// Open opens the Parquet file at path for reading. The caller closes the
// returned file; errors in the file's footer or metadata name the path.
func Open(path string) (*os.File, *parquet.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, pf, nil
}
