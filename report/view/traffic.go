package view

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/traffic"
)

// trafficMode marks an index entry that is a directory of collected spans
// (gavel collect, gavel import, observe), not a run.
const trafficMode = results.Mode("traffic")

// trafficTableLimit is how many traces a traffic page's table holds: the
// newest; the page says how to narrow the rest.
const trafficTableLimit = 500

// isSpanFile reports whether a file name is one the collectors write:
// spans-*.parquet (gavel collect, gavel import) or traces.parquet
// (observe's directory exporter, outside a run).
func isSpanFile(name string) bool {
	return name == results.TracesFile || strings.HasPrefix(name, "spans-") && strings.HasSuffix(name, ".parquet")
}

// spanFileCount counts the span files directly in dir (not in a run).
func spanFileCount(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() && isSpanFile(e.Name()) {
			n++
		}
	}
	return n
}

// resolveTraffic turns a key into a directory of collected spans under a
// root, refusing what resolve refuses (keys leaving their root, symbolic
// links leading out) and directories that are runs or hold no span files.
func (s *Server) resolveTraffic(key string) (string, error) {
	root, dir, err := s.resolveDir(key)
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(filepath.Join(dir, results.ManifestFile)); err == nil || spanFileCount(dir) == 0 {
		return "", errOutside
	}
	if _, err := s.trafficFiles(root, dir); err != nil {
		return "", fmt.Errorf("traffic %s: %w", key, err)
	}
	return dir, nil
}

// resolveDir is resolve's path checks without the run check: the root and
// the real directory key names.
func (s *Server) resolveDir(key string) (string, string, error) {
	if key == "" || strings.ContainsAny(key, "\\\x00") {
		return "", "", errOutside
	}
	idx, rel, _ := strings.Cut(key, "/")
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(s.roots) || strconv.Itoa(i) != idx {
		return "", "", errOutside
	}
	if rel == "" {
		rel = "."
	}
	if path.IsAbs(rel) || path.Clean(rel) != rel || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", "", errOutside
	}
	root := s.roots[i]
	dir, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil || !within(root, dir) {
		return "", "", errOutside
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", "", errOutside
	}
	return root, dir, nil
}

// trafficFiles returns the span files of dir, each checked to lie inside
// root and to be a regular file.
func (s *Server) trafficFiles(root, dir string) ([]string, error) {
	files, err := traffic.SpanFiles(dir)
	if err != nil {
		return nil, errors.New(s.scrub(err.Error()))
	}
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil || !within(root, real) {
			return nil, fmt.Errorf("%s %w", s.showPath(f), errEscapes)
		}
		if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s %w", s.showPath(f), errEscapes)
		}
	}
	return files, nil
}

// rootOf returns the served root holding dir (a real path).
func (s *Server) rootOf(dir string) string {
	best := ""
	for _, r := range s.roots {
		if within(r, dir) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// trafficSpanFiles returns the span files of every traffic directory under
// the roots, for joining an application's spans to the run traces they
// continue. Unreadable or escaping directories are left out.
func (s *Server) trafficSpanFiles() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range s.Runs() {
		if e.Mode != trafficMode {
			continue
		}
		root, dir, err := s.resolveDir(e.Key)
		if err != nil {
			continue
		}
		files, err := s.trafficFiles(root, dir)
		if err != nil {
			continue
		}
		for _, f := range files {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// buildIndex indexes the traces of a run, joined with the collected spans
// that continue them, or of a traffic directory.
func (s *Server) buildIndex(dir string) (*report.TraceIndex, error) {
	if _, err := os.Lstat(filepath.Join(dir, results.ManifestFile)); err != nil {
		files, err := s.trafficFiles(s.rootOf(dir), dir)
		if err != nil {
			return nil, err
		}
		return report.NewSpanIndex(files, s.opts.MaxText)
	}
	x, err := report.NewTraceIndex(dir, s.opts.MaxText)
	if err != nil {
		return nil, err
	}
	if err := x.Join(s.trafficSpanFiles()); err != nil {
		return nil, err
	}
	return x, nil
}

// scoredRuns returns the runs under the roots that scored the traffic in
// dir (gavel score --traces DIR records the directory in its manifest).
func (s *Server) scoredRuns(dir string) (dirs, shown []string) {
	for _, e := range s.Runs() {
		if e.Mode == trafficMode || e.Error != "" {
			continue
		}
		runDir, err := s.resolve(e.Key)
		if err != nil {
			continue
		}
		m, err := results.ReadManifest(runDir)
		if err != nil || m.Dataset.Traces == "" {
			continue
		}
		real, err := filepath.EvalSymlinks(m.Dataset.Traces)
		if err == nil && real == dir {
			dirs = append(dirs, runDir)
			shown = append(shown, e.Dir)
		}
	}
	return dirs, shown
}

func (s *Server) handleTraffic(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("dir")
	dir, err := s.resolveTraffic(key)
	if err != nil {
		http.Error(w, "no directory of collected spans with that key under the served directories", http.StatusNotFound)
		return
	}
	files, err := s.trafficFiles(s.rootOf(dir), dir)
	if err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusUnprocessableEntity)
		return
	}
	scored, shown := s.scoredRuns(dir)
	f := traffic.Filter{User: q.Get("user"), Session: q.Get("session"), Service: q.Get("service"), Model: q.Get("model"),
		ErrorsOnly: q.Get("errors") == "1"}
	sum, err := traffic.Read(r.Context(), files, traffic.Options{Filter: f, Limit: trafficTableLimit, Scores: scored, Cost: s.opts.Cost})
	if err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusUnprocessableEntity)
		return
	}
	var buf bytes.Buffer
	page := report.TrafficPage{Dir: s.showPath(dir), Key: key, Scores: shown}
	if err := report.WriteTrafficHTML(&buf, sum, page, s.htmlOptions(nil)); err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusInternalServerError)
		return
	}
	writeHTML(w, buf.Bytes())
}
