// Package arrowtest reads Parquet files with Apache Arrow's reader, an
// implementation that shares no code with the parquet-go writer gavel
// uses, so that tests check what gavel stores as another tool reads it.
// Tests only import it.
package arrowtest

import (
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Strings reads the Parquet file at path and returns its column names in
// order, the Parquet logical type of each column, and the values of its
// string, binary and dictionary-encoded string columns (nil for null),
// by column name.
func Strings(t testing.TB, path string) (names []string, logical map[string]schema.LogicalType, text map[string][]*string) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("arrow: open %s: %v", path, err)
	}
	logical = map[string]schema.LogicalType{}
	sc := pf.MetaData().Schema
	for i := 0; i < sc.NumColumns(); i++ {
		logical[sc.Column(i).Name()] = sc.Column(i).LogicalType()
	}
	pf.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(t.Context(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("arrow: read %s: %v", path, err)
	}
	defer tbl.Release()
	text = map[string][]*string{}
	for i, fld := range tbl.Schema().Fields() {
		names = append(names, fld.Name)
		for _, chunk := range tbl.Column(i).Data().Chunks() {
			for k := 0; k < chunk.Len(); k++ {
				var v *string
				switch a := chunk.(type) {
				case *array.String:
					if !a.IsNull(k) {
						s := a.Value(k)
						v = &s
					}
				case *array.Binary:
					if !a.IsNull(k) {
						s := string(a.Value(k))
						v = &s
					}
				case *array.Dictionary:
					if !a.IsNull(k) {
						s := a.Dictionary().ValueStr(a.GetValueIndex(k))
						v = &s
					}
				default:
					if fld.Type.ID() != arrow.STRING && fld.Type.ID() != arrow.BINARY {
						continue
					}
					t.Fatalf("%s: column %s: unexpected array %T", path, fld.Name, chunk)
				}
				text[fld.Name] = append(text[fld.Name], v)
			}
		}
	}
	return names, logical, text
}
