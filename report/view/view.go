// Package view serves stored runs to a browser: the list of runs under a
// set of directories, each run's HTML report and the comparison of any two,
// read from the runs' Parquet files when a page asks for them. It is
// read-only, serves nothing outside the directories it was given (symbolic
// links are followed only while they stay inside), answers only requests
// addressed to it by name (no DNS rebinding) and shows paths relative to
// those directories.
package view

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/traffic"
)

// DefaultAddr is where the viewer listens unless told otherwise: the
// loopback interface only, on a port the system picks.
const DefaultAddr = "127.0.0.1:0"

// maxDepth is how deep below a root the viewer looks for runs.
const maxDepth = 6

// Options tune a Server.
type Options struct {
	// Generator names the program in the pages ("gavel v1.2.3").
	Generator string
	// MaxText is the longest text kept of one string in a page (see
	// report.HTMLOptions).
	MaxText int
	// CachedRuns is how many runs' trace indexes are kept (default 8).
	CachedRuns int
	// AllowHosts are more names the Host header of a request may carry,
	// each "NAME" (on the listening port) or "NAME:PORT". Without them
	// the viewer answers only requests naming the address it was reached
	// at, and, reached over loopback, "localhost", "127.0.0.1" or "[::1]",
	// always with the listening port; anything else is refused with 403.
	AllowHosts []string
	// Cost prices the model calls of collected spans that carry tokens
	// but no cost (nil: they add none).
	Cost traffic.CostFunc
}

// Server serves the runs found under its roots. Create it with New.
type Server struct {
	roots []string // absolute, symlinks resolved
	given []string // the same, absolute but as given
	allow []allowedHost
	opts  Options

	mu      sync.Mutex
	indexes map[string]*report.TraceIndex // run dir -> index
	order   []string                      // least recently used first
}

// New returns a Server for the runs in or under roots (directories; a run
// directory itself is a valid root). Every root must exist.
func New(roots []string, o Options) (*Server, error) {
	if len(roots) == 0 {
		return nil, errors.New("view: no directory to serve")
	}
	if o.CachedRuns <= 0 {
		o.CachedRuns = 8
	}
	s := &Server{opts: o, indexes: map[string]*report.TraceIndex{}}
	for _, h := range o.AllowHosts {
		a, err := parseAllowedHost(h)
		if err != nil {
			return nil, fmt.Errorf("view: %w", err)
		}
		s.allow = append(s.allow, a)
	}
	for _, r := range roots {
		given, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("view: %s: %w", r, err)
		}
		abs, err := filepath.EvalSymlinks(given)
		if err != nil {
			return nil, fmt.Errorf("view: %w", err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("view: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("view: %s is not a directory", r)
		}
		s.roots = append(s.roots, abs)
		s.given = append(s.given, given)
	}
	return s, nil
}

// Handler returns the viewer's HTTP handler. Routes (GET and HEAD only):
//
//	/                                  the runs under the roots
//	/run?run=KEY                       one run's report
//	/compare?a=KEY&b=KEY               run b compared with run a
//	/compare?run=KEY&va=V&vb=V         variant vb compared with va
//	/traffic?dir=KEY[&user=U&session=S&service=N&model=M&errors=1]
//	                                   the trace table and dashboard of a directory of collected spans
//	/api/runs                          the runs, as JSON
//	/api/trace?run=KEY&trace=ID        one trace's spans, as JSON (KEY a run or a traffic directory)
//
// A run's KEY is the index of its root and its path below it
// ("0/nightly/2026-11-20"); keys that leave their root are refused, and so
// is a run any of whose files is a symbolic link resolving outside it.
//
// Every request must name the viewer in its Host header (see
// Options.AllowHosts) and must not be a cross-site subresource request
// (Sec-Fetch-Site: cross-site other than a navigation); others get 403.
// The handler learns the listening address from the connection
// (http.LocalAddrContextKey), so it must be served by an http.Server.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.handleIndex)
	mux.HandleFunc("/run", s.handleRun)
	mux.HandleFunc("/compare", s.handleCompare)
	mux.HandleFunc("/traffic", s.handleTraffic)
	mux.HandleFunc("/api/runs", s.handleRunsJSON)
	mux.HandleFunc("/api/trace", s.handleTrace)
	return s.addressed(readOnly(mux))
}

// readOnly allows GET and HEAD and sets the headers every response
// carries.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the viewer is read-only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// Serve listens on addr (DefaultAddr when empty) and serves until ctx is
// done; ready, when set, receives the URL once the server listens.
func (s *Server) Serve(ctx context.Context, addr string, ready func(url string)) error {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready("http://" + hostPort(ln.Addr()) + "/")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("view: %w", err)
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil {
			return fmt.Errorf("view: %w", err)
		}
		return nil
	}
}

func hostPort(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
	}
	return a.String()
}

// Runs lists the runs under the roots, newest first.
func (s *Server) Runs() []report.IndexEntry {
	var out []report.IndexEntry
	for i, root := range s.roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable: skip, keep listing the rest
			}
			if !d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || strings.Count(filepath.ToSlash(rel), "/") >= maxDepth) {
				return filepath.SkipDir
			}
			if _, err := os.Lstat(filepath.Join(p, results.ManifestFile)); err != nil {
				if n := spanFileCount(p); n > 0 {
					out = append(out, report.IndexEntry{Key: keyOf(i, rel), Dir: s.showPath(p), Name: filepath.Base(p),
						Mode: trafficMode, Variants: []string{}, Files: n})
				}
				return nil
			}
			out = append(out, s.entry(keyOf(i, rel), root, p))
			return filepath.SkipDir
		})
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].StartedAt != out[b].StartedAt {
			return out[a].StartedAt > out[b].StartedAt
		}
		return out[a].Key < out[b].Key
	})
	return out
}

func keyOf(root int, rel string) string {
	rel = filepath.ToSlash(rel)
	if rel == "." {
		return strconv.Itoa(root)
	}
	return strconv.Itoa(root) + "/" + rel
}

// entry lists the run in dir, below root; a run with a file leading out
// of root is listed with the reason it is not read.
func (s *Server) entry(key, root, dir string) report.IndexEntry {
	e := report.IndexEntry{Key: key, Dir: s.showPath(dir), Variants: []string{}}
	err := checkFiles(root, dir)
	var m *results.Manifest
	if err == nil {
		m, err = results.ReadManifest(dir)
	}
	if err != nil {
		e.Error = s.scrub(err.Error())
		e.Name = filepath.Base(dir)
		return e
	}
	e.RunID, e.Name, e.Status, e.Mode = m.RunID, m.Name, m.Status, m.Mode
	if !m.StartedAt.IsZero() {
		e.StartedAt = m.StartedAt.UTC().Format(time.RFC3339)
	}
	for _, v := range m.Variants {
		e.Variants = append(e.Variants, v.Name)
	}
	e.Results, e.Errors, e.CostUSD = m.Totals.Results, m.Totals.Errors, m.Totals.CostUSD
	return e
}

// errOutside is returned for a key that names no run under the roots.
var errOutside = errors.New("no run with that key under the served directories")

// resolve turns a run key into its directory, refusing anything that
// leaves its root (.., absolute paths, symbolic links pointing out, of the
// directory or of any file the viewer reads in it) or is not a run.
//
// The files are checked when a page is asked for and opened by name just
// after: someone able to replace a run's files while the viewer reads
// them can make it read elsewhere, but no request can.
func (s *Server) resolve(key string) (string, error) {
	root, dir, err := s.resolveDir(key)
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(filepath.Join(dir, results.ManifestFile)); err != nil {
		return "", errOutside
	}
	if err := checkFiles(root, dir); err != nil {
		return "", fmt.Errorf("run %s: %w", key, err)
	}
	return dir, nil
}

func (s *Server) htmlOptions(keys map[string]string) report.HTMLOptions {
	return report.HTMLOptions{MaxText: s.opts.MaxText, TraceURL: "/api/trace", RunKeys: keys,
		Generator: s.opts.Generator, Live: true, ShowPath: s.showPath}
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := report.WriteHTMLIndex(&buf, s.Runs(), s.htmlOptions(nil)); err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusInternalServerError)
		return
	}
	writeHTML(w, buf.Bytes())
}

func (s *Server) handleRunsJSON(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.Runs())
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("run")
	dir, err := s.resolve(key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	rep, err := report.ForRun(dir, report.Options{})
	if err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusUnprocessableEntity)
		return
	}
	s.page(w, rep, map[string]string{dir: key})
}

func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var rep *report.Report
	keys := map[string]string{}
	switch {
	case q.Get("run") != "":
		dir, err := s.resolve(q.Get("run"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		va, vb := q.Get("va"), q.Get("vb")
		if va == "" || vb == "" {
			http.Error(w, "compare within a run needs va and vb (two variant names)", http.StatusBadRequest)
			return
		}
		keys[dir] = q.Get("run")
		if rep, err = report.CompareVariants(dir, va, vb, report.Options{}); err != nil {
			http.Error(w, s.scrub(err.Error()), http.StatusUnprocessableEntity)
			return
		}
	default:
		a, errA := s.resolve(q.Get("a"))
		b, errB := s.resolve(q.Get("b"))
		if errA != nil || errB != nil {
			http.Error(w, "compare needs a and b, two run keys: "+errOutside.Error(), http.StatusNotFound)
			return
		}
		keys[a], keys[b] = q.Get("a"), q.Get("b")
		var err error
		if rep, err = report.CompareRuns(a, b, nil, report.Options{}); err != nil {
			http.Error(w, s.scrub(err.Error()), http.StatusUnprocessableEntity)
			return
		}
	}
	s.page(w, rep, keys)
}

// page writes rep's page; keys maps run directories to their keys.
func (s *Server) page(w http.ResponseWriter, rep *report.Report, keys map[string]string) {
	byID := map[string]string{}
	for _, run := range rep.Runs {
		byID[run.RunID] = keys[run.Dir]
	}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, rep, s.htmlOptions(byID)); err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusInternalServerError)
		return
	}
	writeHTML(w, buf.Bytes())
}

func (s *Server) handleTrace(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dir, err := s.resolve(q.Get("run"))
	if errors.Is(err, errOutside) {
		dir, err = s.resolveTraffic(q.Get("run"))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	x, err := s.traceIndex(dir)
	if err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusInternalServerError)
		return
	}
	b, err := x.SpansJSON(q.Get("trace"))
	if errors.Is(err, report.ErrNoTrace) {
		http.Error(w, s.scrub(err.Error()), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, s.scrub(err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// traceIndex returns the run's trace index, building it on first use and
// keeping the most recently used few.
func (s *Server) traceIndex(dir string) (*report.TraceIndex, error) {
	s.mu.Lock()
	if x, ok := s.indexes[dir]; ok {
		s.touch(dir)
		s.mu.Unlock()
		return x, nil
	}
	s.mu.Unlock()
	x, err := s.buildIndex(dir)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indexes[dir]; !ok {
		s.indexes[dir] = x
		s.order = append(s.order, dir)
		for len(s.order) > s.opts.CachedRuns {
			delete(s.indexes, s.order[0])
			s.order = s.order[1:]
		}
	}
	return x, nil
}

func (s *Server) touch(dir string) {
	for i, d := range s.order {
		if d == dir {
			s.order = append(append(s.order[:i:i], s.order[i+1:]...), dir)
			return
		}
	}
}

func writeHTML(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", report.CSP(true)+"; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// allowedHost is one name a request's Host header may carry besides the
// viewer's own address; port is empty for "the listening port".
type allowedHost struct{ host, port string }

// parseAllowedHost reads "NAME" or "NAME:PORT" (an IPv6 address in
// brackets when it has a port).
func parseAllowedHost(s string) (allowedHost, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	h, p, err := net.SplitHostPort(name)
	if err != nil {
		h, p = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"), ""
	} else if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
		return allowedHost{}, fmt.Errorf("allowed host %q: the port must be a number from 1 to 65535", s)
	}
	if h == "" || strings.ContainsAny(h, "/\\@?#%[] \t\r\n") || strings.Contains(h, ":") && net.ParseIP(h) == nil {
		return allowedHost{}, fmt.Errorf("allowed host %q: want a host name or address, optionally with :PORT", s)
	}
	return allowedHost{host: h, port: p}, nil
}

// hostAllowed reports whether a request whose Host header is host and
// which arrived at the local address local is addressed to the viewer:
// by the address it was reached at, by a loopback name when it was
// reached over loopback, or by one of allow; always with the port it
// listens on (or, for allow entries with a port, exactly that).
func hostAllowed(host string, local net.Addr, allow []allowedHost) bool {
	ta, ok := local.(*net.TCPAddr)
	if !ok || host == "" {
		return false
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil { // no port: the default one of http
		h, p = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	h = strings.ToLower(h)
	for _, a := range allow {
		if a.host == h && (a.port == p || a.port == "" && p == strconv.Itoa(ta.Port)) {
			return true
		}
	}
	if p != strconv.Itoa(ta.Port) {
		return false
	}
	if ta.IP.IsLoopback() && (h == "localhost" || h == "127.0.0.1" || h == "::1") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.Equal(ta.IP)
}

// addressed refuses, with 403, requests not addressed to the viewer by
// name (a page on another site reaching it through DNS rebinding sends
// its own host name) and cross-site requests other than navigations.
func (s *Server) addressed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !hostAllowed(r.Host, local, s.allow) {
			http.Error(w, "forbidden: this viewer answers only requests addressed to it by its own address or an allowed host name", http.StatusForbidden)
			return
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" && r.Header.Get("Sec-Fetch-Mode") != "navigate" {
			http.Error(w, "forbidden: cross-site request", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// runFiles are the files of a run the viewer reads.
var runFiles = []string{results.ManifestFile, results.ResultsFile, results.ScoresFile, results.TracesFile}

// errEscapes is returned for a run one of whose files is a symbolic link
// resolving outside the served directories (or to no regular file).
var errEscapes = errors.New("lies outside the served directories or is not a regular file")

// within reports whether path (real path inside root) lies in root.
func within(root, path string) bool {
	if path == root {
		return true
	}
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	return strings.HasPrefix(path, root)
}

// checkFiles refuses a run directory (real path inside root) any of whose
// files, following symbolic links, lies outside root or is not a regular
// file. A file that does not exist passes: its reader reports it.
func checkFiles(root, dir string) error {
	for _, name := range runFiles {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil || !within(root, real) {
			return fmt.Errorf("%s %w", name, errEscapes)
		}
		if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
			return fmt.Errorf("%s %w", name, errEscapes)
		}
	}
	return nil
}

// showPath is how a page shows a filesystem path: relative to the served
// directory holding it ("." for the directory itself), or, for another
// absolute path, only its last element. Relative paths and URLs are shown
// as they are.
func (s *Server) showPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	p = filepath.Clean(p)
	best := ""
	for _, list := range [][]string{s.roots, s.given} {
		for _, root := range list {
			if within(root, p) && len(root) > len(best) {
				best = root
			}
		}
	}
	if best == "" {
		return filepath.Base(p)
	}
	rel, err := filepath.Rel(best, p)
	if err != nil {
		return filepath.Base(p)
	}
	return filepath.ToSlash(rel)
}

// scrub rewrites a message for a page: the served directories' absolute
// paths in it become relative ones.
func (s *Server) scrub(msg string) string {
	roots := append(append([]string(nil), s.roots...), s.given...)
	sort.Slice(roots, func(a, b int) bool { return len(roots[a]) > len(roots[b]) })
	for _, root := range roots {
		if filepath.Dir(root) == root {
			continue // the file system's root: nothing to shorten
		}
		msg = strings.ReplaceAll(msg, root+string(filepath.Separator), "")
		msg = strings.ReplaceAll(msg, root, ".")
	}
	return msg
}
