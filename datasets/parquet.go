package datasets

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetSource reads a Parquet file in Arrow record batches of a bounded size.
// readBufferSize is the buffer each column chunk of a Parquet dataset is
// read through.
const readBufferSize = 1 << 20

type parquetSource struct {
	f     *os.File
	path  string
	pf    *file.Reader
	rr    pqarrow.RecordReader
	names []string

	rec    arrow.RecordBatch // current batch (owned by rr)
	i      int               // next row in rec
	row    int               // rows returned so far
	strict bool              // StrictUTF8
}

func newParquetSource(f *os.File, path string, batchSize int, strict bool) (src *parquetSource, err error) {
	defer func() {
		if p := recover(); p != nil {
			src, err = nil, &ParseError{Path: path, Err: fmt.Errorf("invalid Parquet file: %v", p)}
		}
	}()
	// Column chunks are read through a buffer rather than whole: a row
	// group of a large file (DuckDB writes about 120,000 rows a group)
	// would otherwise sit in memory column by column.
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pf, err := file.NewParquetReader(f, file.WithReadProps(props))
	if err != nil {
		return nil, &ParseError{Path: path, Err: fmt.Errorf("invalid Parquet file: %w", err)}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchSize)}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, &ParseError{Path: path, Err: fmt.Errorf("invalid Parquet file: %w", err)}
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		pf.Close()
		return nil, &ParseError{Path: path, Err: fmt.Errorf("read Parquet file: %w", err)}
	}
	sc := rr.Schema()
	names := make([]string, sc.NumFields())
	seen := make(map[string]bool, len(names))
	for i, fld := range sc.Fields() {
		if seen[fld.Name] {
			rr.Release()
			pf.Close()
			return nil, &ParseError{Path: path, Err: fmt.Errorf("duplicate column name %q", fld.Name)}
		}
		seen[fld.Name] = true
		names[i] = fld.Name
	}
	return &parquetSource{f: f, path: path, pf: pf, rr: rr, names: names, strict: strict}, nil
}

func (s *parquetSource) next() (r row, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = row{}, &ParseError{Path: s.path, Line: s.row + 1, Err: fmt.Errorf("invalid Parquet data: %v", p)}
		}
	}()
	for s.rec == nil || s.i >= int(s.rec.NumRows()) {
		if !s.rr.Next() {
			if err := s.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return row{}, &ParseError{Path: s.path, Line: s.row + 1, Err: fmt.Errorf("read Parquet: %w", err)}
			}
			s.rec = nil
			return row{}, io.EOF
		}
		s.rec, s.i = s.rr.RecordBatch(), 0
	}
	s.row++
	fields := make(map[string]any, len(s.names))
	for c, name := range s.names {
		v, err := arrowValue(s.rec.Column(c), s.i)
		if err != nil {
			return row{}, &ParseError{Path: s.path, Line: s.row, Err: fmt.Errorf("column %q: %w", name, err)}
		}
		if s.strict && !validText(v) {
			return row{}, &ParseError{Path: s.path, Line: s.row, Err: errInvalidUTF8(name)}
		}
		fields[name] = v
	}
	s.i++
	return row{line: s.row, fields: fields}, nil
}

func (s *parquetSource) close() error {
	s.rec = nil
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	// The file.Reader closes the *os.File it was given.
	return s.pf.Close()
}

// arrowValue converts element i of arr to a JSON-like Go value: string,
// int64, float64, bool, nil, []any or map[string]any. Binary values are
// strings when they are valid UTF-8 and standard base64 otherwise; NaN and
// infinities are the strings "NaN", "+Inf" and "-Inf" (as JSON has no such
// numbers); unsigned values above math.MaxInt64 are float64. Other types
// (dates, timestamps, decimals, ...) take the form Arrow gives them for JSON.
func arrowValue(arr arrow.Array, i int) (any, error) {
	if arr.IsNull(i) {
		return nil, nil
	}
	switch a := arr.(type) {
	// Arrow strings alias the batch's buffers: clone them so that an example
	// does not keep a whole batch alive.
	case *array.String:
		return strings.Clone(a.Value(i)), nil
	case *array.LargeString:
		return strings.Clone(a.Value(i)), nil
	case *array.StringView:
		return strings.Clone(a.Value(i)), nil
	case *array.Binary:
		return bytesValue(a.Value(i)), nil
	case *array.LargeBinary:
		return bytesValue(a.Value(i)), nil
	case *array.BinaryView:
		return bytesValue(a.Value(i)), nil
	case *array.FixedSizeBinary:
		return bytesValue(a.Value(i)), nil
	case *array.Boolean:
		return a.Value(i), nil
	case *array.Int8:
		return int64(a.Value(i)), nil
	case *array.Int16:
		return int64(a.Value(i)), nil
	case *array.Int32:
		return int64(a.Value(i)), nil
	case *array.Int64:
		return a.Value(i), nil
	case *array.Uint8:
		return int64(a.Value(i)), nil
	case *array.Uint16:
		return int64(a.Value(i)), nil
	case *array.Uint32:
		return int64(a.Value(i)), nil
	case *array.Uint64:
		v := a.Value(i)
		if v > math.MaxInt64 {
			return float64(v), nil
		}
		return int64(v), nil
	case *array.Float16:
		return floatValue(float64(a.Value(i).Float32()), 32), nil
	case *array.Float32:
		return floatValue(float64(a.Value(i)), 32), nil
	case *array.Float64:
		return floatValue(a.Value(i), 64), nil
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		m := make(map[string]any, a.NumField())
		for f := 0; f < a.NumField(); f++ {
			v, err := arrowValue(a.Field(f), i)
			if err != nil {
				return nil, err
			}
			m[st.Field(f).Name] = v
		}
		return m, nil
	case *array.Map:
		start, end := a.ValueOffsets(i)
		kv, ok := a.ListValues().(*array.Struct)
		if !ok || kv.NumField() != 2 {
			return nil, fmt.Errorf("unexpected map layout %s", a.DataType())
		}
		m := make(map[string]any, end-start)
		for j := int(start); j < int(end); j++ {
			k, err := arrowValue(kv.Field(0), j)
			if err != nil {
				return nil, err
			}
			v, err := arrowValue(kv.Field(1), j)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprint(k)
			}
			m[ks] = v
		}
		return m, nil
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			v, err := arrowValue(vals, j)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *array.Dictionary:
		return arrowValue(a.Dictionary(), a.GetValueIndex(i))
	}
	return marshalValue(arr.GetOneForMarshal(i))
}

func bytesValue(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// floatValue returns f, or its name when it is not a finite number. bits is
// the source precision, so that a float32 0.1 becomes float64 0.1.
func floatValue(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	if bits == 32 {
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', -1, 32), 64)
	}
	return f
}

// marshalValue normalises a value meant for encoding/json to JSON-like Go
// values by a JSON round trip; integral numbers become int64, others float64.
func marshalValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("convert %T: %w", v, err)
	}
	return normaliseNumbers(out), nil
}

func normaliseNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case []any:
		for i := range v {
			v[i] = normaliseNumbers(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normaliseNumbers(v[k])
		}
	}
	return v
}
