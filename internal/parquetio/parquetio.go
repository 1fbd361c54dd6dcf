// Package parquetio holds what gavel's Parquet files have in common: the
// writer configuration (zstd compression, gavel as the creator) and the way a file is opened for
// reading. traces.parquet, results.parquet and
// scores.parquet all go through it, so they are written and read alike. It
// is a leaf: it imports nothing of gavel's.
package parquetio

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// codec compresses every gavel Parquet file, stored or a running run's
// chunk: one codec, so that chunks merge into a stored file by copying
// their compressed pages as they are. It is shared so that its encoders
// are built once per process (see zstdCodec), and is safe for concurrent
// use.
var codec = &zstdCodec{}

// WriterConfig returns the configuration of a writer of a gavel Parquet
// file: zstd-compressed, created by "gavel", with opts (a schema, for
// example) applied too. Pages are parquet-go's default size: smaller ones
// hold less in a writer's buffers but compress worse (64 KiB pages made
// the stored files of a scored JSONL dataset 11 % larger).
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
// fn returning an error stops the read and returns that error.
//
// When T is flat (no lists or groups) and every column of T is in the
// file with the same type, only T's columns are read, column by column
// (see eachColumns); otherwise, as for a file of an older schema, whole
// rows are read and converted to T.
func Each[T any](path string, fn func(T) error, options ...parquet.ReaderOption) error {
	f, pf, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if cols, ok := projection(pf.Schema(), parquet.SchemaOf(new(T))); ok {
		err := eachColumns(pf, cols, fn)
		var stop errStop
		if errors.As(err, &stop) {
			return stop.err
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
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

// columns is a projection of a file's flat columns onto the schema of T:
// file[i] is the file's index of T's leaf column i.
type columns struct {
	schema *parquet.Schema
	file   []int
}

// projection returns where each leaf column of want is in the file's
// schema, and false unless both are flat and every column of want is in
// the file with the same type and repetition.
func projection(file, want *parquet.Schema) (columns, bool) {
	if !flat(file) || !flat(want) {
		return columns{}, false
	}
	paths := want.Columns()
	c := columns{schema: want, file: make([]int, len(paths))}
	for i, path := range paths {
		fl, ok := file.Lookup(path...)
		wl, _ := want.Lookup(path...)
		if !ok || !parquet.EqualNodes(fl.Node, wl.Node) {
			return columns{}, false
		}
		c.file[i] = fl.ColumnIndex
	}
	return c, true
}

// flat reports whether every field of schema is a required or optional
// leaf.
func flat(schema *parquet.Schema) bool {
	for _, f := range schema.Fields() {
		if !f.Leaf() || f.Repeated() {
			return false
		}
	}
	return true
}

// batchRows is how many rows eachColumns decodes from each column at a
// time.
const batchRows = 1024

// eachColumns streams the rows of pf to fn as T, reading only the columns
// of c, a batch of rows at a time, column by column. In a flat file every
// column holds one value a row. When every column goes into a field of a
// plain kind (see settersOf), each value is stored into its row's field
// as it is read; otherwise the batch's values are gathered and each row
// reconstructed by parquet-go.
func eachColumns[T any](pf *parquet.File, c columns, fn func(T) error) error {
	set, direct := settersOf(reflect.TypeFor[T](), c.schema)
	batch := make([]T, batchRows)
	bufs := make([][]parquet.Value, len(c.file))
	for i := range bufs {
		bufs[i] = make([]parquet.Value, batchRows)
	}
	row := make(parquet.Row, len(c.file))
	for _, rg := range pf.RowGroups() {
		chunks := rg.ColumnChunks()
		readers := make([]parquet.ColumnChunkValueReader, len(c.file))
		for i, fi := range c.file {
			readers[i] = parquet.NewColumnChunkValueReader(chunks[fi])
		}
		err := func() error {
			defer func() {
				for _, r := range readers {
					r.Close()
				}
			}()
			for left := rg.NumRows(); left > 0; {
				n := int(min(left, batchRows))
				clear(batch[:n])
				for i, r := range readers {
					var store func(int, parquet.Value)
					if direct {
						store = func(k int, v parquet.Value) { set[i](unsafe.Pointer(&batch[k]), v) }
					}
					if err := fill(r, bufs[i][:n], store); err != nil {
						return fmt.Errorf("column %s: %w", strings.Join(c.schema.Columns()[i], "."), err)
					}
				}
				for j := 0; j < n; j++ {
					if !direct {
						for i := range row {
							v := bufs[i][j]
							row[i] = v.Level(0, v.DefinitionLevel(), i)
						}
						if err := c.schema.Reconstruct(&batch[j], row); err != nil {
							return err
						}
					}
					if err := fn(batch[j]); err != nil {
						return errStop{err}
					}
				}
				left -= int64(n)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// setter stores a column's value into its field of the row at p.
type setter func(p unsafe.Pointer, v parquet.Value)

// settersOf returns, for each column of schema (flat, T's own), the setter
// of T's field of that name, and false unless every field is a string
// (or a named string), an int64, int32, float64 or bool, or a pointer to
// one of those for an optional column, of the column's physical type.
// Such a field takes the value as parquet-go's reconstruction gives it.
func settersOf(t reflect.Type, schema *parquet.Schema) ([]setter, bool) {
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		fields[cmp.Or(name, f.Name)] = f
	}
	paths := schema.Columns()
	set := make([]setter, len(paths))
	for i, path := range paths {
		f, ok := fields[path[0]]
		leaf, _ := schema.Lookup(path...)
		if !ok || len(path) != 1 {
			return nil, false
		}
		ft, optional := f.Type, leaf.Node.Optional()
		if optional != (ft.Kind() == reflect.Pointer) {
			return nil, false
		}
		if optional {
			ft = ft.Elem()
		}
		off := f.Offset
		var kind parquet.Kind
		var store setter
		switch ft.Kind() {
		case reflect.String:
			kind = parquet.ByteArray
			store = func(p unsafe.Pointer, v parquet.Value) { *(*string)(p) = string(v.ByteArray()) }
		case reflect.Int64:
			kind = parquet.Int64
			store = func(p unsafe.Pointer, v parquet.Value) { *(*int64)(p) = v.Int64() }
		case reflect.Int32:
			kind = parquet.Int32
			store = func(p unsafe.Pointer, v parquet.Value) { *(*int32)(p) = v.Int32() }
		case reflect.Float64:
			kind = parquet.Double
			store = func(p unsafe.Pointer, v parquet.Value) { *(*float64)(p) = v.Double() }
		case reflect.Bool:
			kind = parquet.Boolean
			store = func(p unsafe.Pointer, v parquet.Value) { *(*bool)(p) = v.Boolean() }
		default:
			return nil, false
		}
		if leaf.Node.Type().Kind() != kind {
			return nil, false
		}
		if optional {
			elem := ft
			set[i] = func(p unsafe.Pointer, v parquet.Value) {
				if v.IsNull() {
					return // the batch's rows start zero: a nil pointer
				}
				x := reflect.New(elem)
				store(x.UnsafePointer(), v)
				*(*unsafe.Pointer)(unsafe.Add(p, off)) = x.UnsafePointer()
			}
		} else {
			set[i] = func(p unsafe.Pointer, v parquet.Value) { store(unsafe.Add(p, off), v) }
		}
	}
	return set, true
}

// errStop carries fn's error out of eachColumns, to be returned as it is.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

// fill reads exactly len(buf) values from r. A value read points into
// its page, which the reader reuses for the next page: with store, each
// value is handed to it (with its index) as soon as it is read; without,
// byte arrays are copied, for a row of T may keep the string made from
// one.
func fill(r parquet.ColumnChunkValueReader, buf []parquet.Value, store func(int, parquet.Value)) error {
	for got := 0; got < len(buf); {
		n, err := r.ReadValues(buf[got:])
		for i := got; i < got+n; i++ {
			if store != nil {
				store(i, buf[i])
			} else if k := buf[i].Kind(); k == parquet.ByteArray || k == parquet.FixedLenByteArray {
				buf[i] = buf[i].Clone()
			}
		}
		got += n
		if got == len(buf) {
			return nil
		}
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrNoProgress
		}
	}
	return nil
}
