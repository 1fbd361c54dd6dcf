// Package parquetio holds what gavel's Parquet files have in common: the
// writer configuration (zstd compression for stored files, Snappy for
// scratch files, gavel as the creator) and the way a file is opened for
// reading. traces.parquet, results.parquet and
// scores.parquet all go through it, so they are written and read alike. It
// is a leaf: it imports nothing of gavel's.
package parquetio

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// codec compresses every stored gavel Parquet file. It is shared so that
// its encoders are built once per process (see zstdCodec), and is safe
// for concurrent use.
var codec = &zstdCodec{}

// scratchCodec compresses scratch files; like codec it is stateless
// configuration, safe for concurrent use.
var scratchCodec = &snappy.Codec{}

// Use says what a file is written for, which chooses its compression.
type Use int

const (
	// Stored is a file of a stored run, kept and read by other tools:
	// zstd, small.
	Stored Use = iota
	// Scratch is a file written to be read once and removed, such as a
	// running run's chunks: Snappy, about as fast to write as no
	// compression and still a fraction of the size.
	Scratch
)

// WriterConfig returns the configuration of a writer of a gavel Parquet
// file for use: compressed as use says, created by "gavel", with opts (a
// schema, for example) applied too.
func WriterConfig(use Use, opts ...parquet.WriterOption) (*parquet.WriterConfig, error) {
	var c compress.Codec = codec
	if use == Scratch {
		c = scratchCodec
	}
	all := append([]parquet.WriterOption{parquet.Compression(c), parquet.CreatedBy("gavel", "", "")}, opts...)
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

// Recompressed returns schema with no compression of its own on any
// column, so that a writer given it compresses by its configuration.
// A schema read from a file carries the codecs the file was written with:
// rows copied from a scratch file into a stored one would otherwise keep
// the scratch file's compression.
func Recompressed(schema *parquet.Schema) *parquet.Schema {
	return parquet.NewSchema(schema.Name(), plainNode{schema})
}

// plainNode is a node whose columns have no compression of their own.
type plainNode struct{ parquet.Node }

func (n plainNode) Compression() compress.Codec { return nil }

func (n plainNode) Fields() []parquet.Field { return plainFields(n.Node.Fields()) }

// plainField is a field whose columns have no compression of their own.
type plainField struct{ parquet.Field }

func (f plainField) Compression() compress.Codec { return nil }

func (f plainField) Fields() []parquet.Field { return plainFields(f.Field.Fields()) }

func plainFields(fields []parquet.Field) []parquet.Field {
	out := make([]parquet.Field, len(fields))
	for i, f := range fields {
		out[i] = plainField{f}
	}
	return out
}

// Each streams the rows of the Parquet file at path to fn as T, in file
// order, a batch at a time; options (a schema, say) configure the reader.
// Only the columns of T are decoded. fn returning an error stops the read
// and returns that error.
func Each[T any](path string, fn func(T) error, options ...parquet.ReaderOption) error {
	f, pf, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](pf, options...)
	defer r.Close()
	buf := make([]T, 256)
	for {
		n, err := r.Read(buf)
		for i := range buf[:n] {
			if ferr := fn(buf[i]); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}
