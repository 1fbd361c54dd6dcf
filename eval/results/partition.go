package results

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"

	"github.com/gavel-eval/gavel/internal/parquetio"
)

// Partition writes the table at src (a run's results.parquet,
// scores.parquet or traces.parquet) into dir in the Hive layout of a
// data lake: dir/run_id=RUN/variant=VARIANT/part-00000.parquet, one file a
// variant, without the run_id and variant columns (Spark and DuckDB read
// them from the path with hive_partitioning). Values in the path are
// URL-escaped. Rows keep their order; each file is written to a temporary
// name and renamed when complete. It returns how many rows it wrote.
func Partition(src, dir string) (int64, error) {
	f, pf, err := parquetio.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	schema := pf.Schema()
	runCol, okRun := schema.Lookup("run_id")
	varCol, okVar := schema.Lookup("variant")
	if !okRun || !okVar {
		return 0, fmt.Errorf("%s: no run_id and variant columns to partition by", src)
	}
	// The schema of the partition files: every top-level column but the
	// two, in order.
	group := parquet.Group{}
	for _, field := range schema.Fields() {
		if field.Name() == "run_id" || field.Name() == "variant" {
			continue
		}
		group[field.Name()] = field
	}
	out := parquet.NewSchema(schema.Name(), group)
	// Leaf columns of the source kept, in the order of the new schema.
	var leaves []int
	for _, path := range out.Columns() {
		leaf, _ := schema.Lookup(path...)
		leaves = append(leaves, leaf.ColumnIndex)
	}
	type part struct {
		tmp, dst string
		file     *os.File
		w        *parquet.GenericWriter[any]
	}
	parts := map[[2]string]*part{}
	fail := func(err error) (int64, error) {
		for _, p := range parts {
			p.file.Close()
			os.Remove(p.tmp)
		}
		return 0, err
	}
	cfg, err := parquetio.WriterConfig(parquetio.Recompressed(out))
	if err != nil {
		return 0, err
	}
	buf := make([]parquet.Row, 256)
	var n int64
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		if _, err := copyRows(rows, buf, func(row parquet.Row) error {
			var run, variant string
			for _, v := range row {
				switch v.Column() {
				case runCol.ColumnIndex:
					run = v.String()
				case varCol.ColumnIndex:
					variant = v.String()
				}
			}
			key := [2]string{run, variant}
			p := parts[key]
			if p == nil {
				d := filepath.Join(dir, "run_id="+url.PathEscape(run), "variant="+url.PathEscape(variant))
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
				p = &part{dst: filepath.Join(d, "part-00000.parquet"), tmp: filepath.Join(d, ".part-00000.parquet.tmp")}
				if _, err := os.Stat(p.dst); err == nil {
					return fmt.Errorf("%s exists: a partition is written once", p.dst)
				}
				f, err := os.Create(p.tmp)
				if err != nil {
					return err
				}
				p.file = f
				p.w = parquet.NewGenericWriter[any](p.file, out, cfg)
				parts[key] = p
			}
			// The kept leaves, renumbered in the new schema's order.
			outRow := make(parquet.Row, 0, len(leaves))
			for ci, leaf := range leaves {
				for _, v := range row {
					if v.Column() == leaf {
						outRow = append(outRow, v.Level(v.RepetitionLevel(), v.DefinitionLevel(), ci))
					}
				}
			}
			if _, err := p.w.WriteRows([]parquet.Row{outRow}); err != nil {
				return fmt.Errorf("%s: %w", p.dst, err)
			}
			n++
			return nil
		}); err != nil {
			rows.Close()
			return fail(err)
		}
		rows.Close()
	}
	for _, p := range parts {
		if err := p.w.Close(); err != nil {
			return fail(err)
		}
		if err := p.file.Sync(); err != nil {
			return fail(err)
		}
		if err := p.file.Close(); err != nil {
			return fail(err)
		}
		if err := os.Rename(p.tmp, p.dst); err != nil {
			return fail(err)
		}
	}
	return n, nil
}

// copyRows hands every row of rows to fn, cloned (the reader reuses its
// buffers).
func copyRows(rows parquet.Rows, buf []parquet.Row, fn func(parquet.Row) error) (int64, error) {
	var n int64
	for {
		k, err := rows.ReadRows(buf)
		for _, row := range buf[:k] {
			if ferr := fn(row.Clone()); ferr != nil {
				return n, ferr
			}
			n++
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
