package parquetio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

type wideRow struct {
	ID    string   `parquet:"id"`
	Text  string   `parquet:"text"`
	N     int64    `parquet:"n"`
	Score *float64 `parquet:"score,optional"`
	Label *string  `parquet:"label,optional,dict"`
	OK    bool     `parquet:"ok"`
}

type narrowRow struct {
	Label *string  `parquet:"label,optional,dict"`
	ID    string   `parquet:"id"`
	Score *float64 `parquet:"score,optional"`
}

type listRow struct {
	ID   string   `parquet:"id"`
	Tags []string `parquet:"tags,list"`
}

func writeFile[T any](t *testing.T, path string, rows []T, opts ...parquet.WriterOption) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	for i := 0; i < len(rows); i += 700 {
		if _, err := w.Write(rows[i:min(i+700, len(rows))]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil { // several row groups
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func wideRows(n int) []wideRow {
	rows := make([]wideRow, n)
	for i := range rows {
		rows[i] = wideRow{ID: fmt.Sprintf("id-%05d", i), Text: strings.Repeat(fmt.Sprint(i%10), 50+i%37), N: int64(i * 3), OK: i%2 == 0}
		if i%3 != 0 {
			s := float64(i) / 7
			rows[i].Score = &s
		}
		if i%5 != 0 {
			l := fmt.Sprintf("label-%d", i%4)
			rows[i].Label = &l
		}
	}
	return rows
}

// Reading some columns of a file, in several row groups and pages, gives
// each row's values, which stay valid after the read (the strings are
// copies, not views of a page buffer that is reused).
func TestEachProjectsColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wide.parquet")
	rows := wideRows(5000)
	writeFile(t, path, rows, parquet.PageBufferSize(4096), Compression())
	var got []narrowRow
	if err := Each(path, func(r narrowRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	for i, r := range rows {
		want := narrowRow{Label: r.Label, ID: r.ID, Score: r.Score}
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("row %d: got %+v, want %+v", i, got[i], want)
		}
	}
	if _, ok := projection(mustSchema[wideRow](), mustSchema[narrowRow]()); !ok {
		t.Error("narrowRow is not read as a projection of wideRow")
	}
}

// A row type with a column the file lacks, or a file with lists, is read
// row by row and converted, with the same values.
func TestEachConvertsWhatItCannotProject(t *testing.T) {
	dir := t.TempDir()
	type withExtra struct {
		ID    string `parquet:"id"`
		Extra string `parquet:"extra"`
	}
	path := filepath.Join(dir, "wide.parquet")
	rows := wideRows(1500)
	writeFile(t, path, rows)
	if _, ok := projection(mustSchema[wideRow](), mustSchema[withExtra]()); ok {
		t.Fatal("a missing column was projected")
	}
	n := 0
	if err := Each(path, func(r withExtra) error {
		if r.ID != rows[n].ID || r.Extra != "" {
			return fmt.Errorf("row %d: %+v", n, r)
		}
		n++
		return nil
	}); err != nil || n != len(rows) {
		t.Fatalf("read %d rows: %v", n, err)
	}

	lists := filepath.Join(dir, "lists.parquet")
	writeFile(t, lists, []listRow{{ID: "a", Tags: []string{"x", "y"}}, {ID: "b"}})
	if _, ok := projection(mustSchema[listRow](), mustSchema[listRow]()); ok {
		t.Fatal("a schema with a list was projected")
	}
	var got []listRow
	if err := Each(lists, func(r listRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a" || len(got[0].Tags) != 2 || got[1].ID != "b" {
		t.Fatalf("got %+v", got)
	}
}

// fn's error stops the read and comes back as it is.
func TestEachStopsOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wide.parquet")
	writeFile(t, path, wideRows(3000))
	stop := errors.New("stop")
	n := 0
	err := Each(path, func(narrowRow) error {
		n++
		if n == 1500 {
			return stop
		}
		return nil
	})
	if err != stop || n != 1500 {
		t.Fatalf("Each returned %v after %d rows, want the callback's error after 1500", err, n)
	}
}

func mustSchema[T any]() *parquet.Schema { return parquet.SchemaOf(new(T)) }

// Compression is the writer option of the package's codec.
func Compression() parquet.WriterOption { return parquet.Compression(codec) }

type kind string

type kindsRow struct {
	S   string    `parquet:"s"`
	K   kind      `parquet:"k,dict"`
	I   int64     `parquet:"i"`
	I32 int32     `parquet:"i32"`
	F   float64   `parquet:"f"`
	B   bool      `parquet:"b"`
	PS  *string   `parquet:"ps,optional"`
	PI  *int64    `parquet:"pi,optional"`
	PF  *float64  `parquet:"pf,optional"`
	PB  *bool     `parquet:"pb,optional"`
	J   string    `parquet:"j,json"`
	T   time.Time `parquet:"t,timestamp(microsecond)"`
	Pad string    `parquet:"pad"`
}

// The rows Each builds field by field are those parquet-go's own reader
// reconstructs, for every kind of field it stores directly (and a type
// with a field it does not, a time, is reconstructed).
func TestEachStoresFieldsAsParquetGoReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kinds.parquet")
	rows := make([]kindsRow, 2500)
	for i := range rows {
		r := &rows[i]
		*r = kindsRow{S: fmt.Sprint("s", i), K: kind(fmt.Sprint("k", i%3)), I: int64(i) * -7, I32: int32(i), F: float64(i) / 3, B: i%2 == 1,
			J: fmt.Sprintf(`{"n":%d}`, i), T: time.Unix(int64(i), int64(i)*1000).UTC(), Pad: strings.Repeat("x", i%50)}
		if i%4 != 0 {
			s, n, f, b := fmt.Sprint("p", i), int64(i), float64(i)+0.5, i%3 == 0
			r.PS, r.PI, r.PF, r.PB = &s, &n, &f, &b
		}
	}
	writeFile(t, path, rows, parquet.PageBufferSize(2048), Compression())
	type noTime struct {
		S   string   `parquet:"s"`
		K   kind     `parquet:"k,dict"`
		I   int64    `parquet:"i"`
		I32 int32    `parquet:"i32"`
		F   float64  `parquet:"f"`
		B   bool     `parquet:"b"`
		PS  *string  `parquet:"ps,optional"`
		PI  *int64   `parquet:"pi,optional"`
		PF  *float64 `parquet:"pf,optional"`
		PB  *bool    `parquet:"pb,optional"`
		J   string   `parquet:"j,json"`
	}
	if _, ok := settersOf(reflect.TypeFor[noTime](), mustSchema[noTime]()); !ok {
		t.Fatal("noTime is not stored field by field")
	}
	if _, ok := settersOf(reflect.TypeFor[kindsRow](), mustSchema[kindsRow]()); ok {
		t.Fatal("a time field was taken as a plain kind")
	}
	compare := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: Each and parquet-go's reader differ", name)
		}
	}
	var direct []noTime
	if err := Each(path, func(r noTime) error { direct = append(direct, r); return nil }); err != nil {
		t.Fatal(err)
	}
	compare("field by field", direct, readAllGeneric[noTime](t, path))
	var whole []kindsRow
	if err := Each(path, func(r kindsRow) error { whole = append(whole, r); return nil }); err != nil {
		t.Fatal(err)
	}
	compare("reconstructed", whole, readAllGeneric[kindsRow](t, path))
	compare("as written", whole, rows)
}

// readAllGeneric reads path with parquet-go's GenericReader.
func readAllGeneric[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	out := make([]T, r.NumRows())
	n, err := r.Read(out)
	if n != len(out) || err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read %d of %d rows: %v", n, len(out), err)
	}
	return out
}
