package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// latency is how long the server holds every request.
const latency = 50 * time.Millisecond

// callsPerExample is the requests one example × variant makes: its chain's
// llm step and its llm_rubric judge.
const callsPerExample = 2

// variants in the runner's spec.
const runnerVariants = 2

// server is an OpenAI-compatible chat completions server on 127.0.0.1
// (POST /v1/chat/completions, the real wire format) that answers every
// request after latency: a chain call with a sentence, an llm_rubric
// judge's call with the JSON verdict the judge parses.
type server struct {
	srv                             *http.Server
	url                             string
	requests, inflight, maxInflight atomic.Int64
	chainReply, judgeReply          []byte
}

func startServer() (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{
		url:        "http://" + ln.Addr().String() + "/v1",
		chainReply: completion("The code word is 42."),
		judgeReply: completion(`{"reason": "The output states the code word.", "pass": true, "score": 0.9}`),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.serve)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// completion is a chat completion response body with content.
func completion(content string) []byte {
	b, err := json.Marshal(map[string]any{
		"id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "m1",
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content},
		}},
		"usage": map[string]any{"prompt_tokens": 60, "completion_tokens": 12, "total_tokens": 72},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		m := s.maxInflight.Load()
		if n <= m || s.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"error":{"message":"bad body","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	reply := s.chainReply
	// The default llm_rubric prompt holds "[Rubric]"; the chain's prompts
	// do not.
	if bytes.Contains(body, []byte("[Rubric]")) {
		reply = s.judgeReply
	}
	time.Sleep(latency)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(reply)
}

func (s *server) reset() {
	s.requests.Store(0)
	s.maxInflight.Store(0)
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

// runnerSpec is the spec of the runner section: two variants on the
// bench server, a contains judge and an llm_rubric judge on the same
// server.
const runnerSpec = `name: bench-runner
dataset: {path: data.jsonl, id: id}
providers:
  bench: {base_url: %q}
prices:
  bench/m1: {input_per_mtok: 0, output_per_mtok: 0}
variants:
  - {name: terse, model: bench/m1, prompt: "Answer briefly. {{.example.question}}", params: {temperature: 0}}
  - {name: careful, model: bench/m1, prompt: "Think it through, then answer. {{.example.question}}", params: {temperature: 0}}
judges:
  - {name: mentions, type: contains, expected: "{{.example.expected}}"}
  - {name: rubric, type: llm_rubric, model: bench/m1, rubric: "The output states the code word {{.example.expected}}."}
`

// writeRunnerData writes n examples to path.
func writeRunnerData(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for i := range n {
		fmt.Fprintf(w, `{"id":"e%06d","question":"Item %d of the list is written on a card. What is the code word on card %d?","expected":"%d"}`+"\n", i, i, i, 42)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var summaryLine = regexp.MustCompile(`run \S+: (\w+), ([\d,]+) results \(([\d,]+) errors, ([\d,]+) judge errors\)`)

type runnerPoint struct {
	n, conc     int
	res         result
	requests    int64
	maxInflight int64
	status      string // the summary's first line, when it parses
	// bare is the efficiency of a bare net/http client making the same
	// requests (measured at 2,000 examples), or 0.
	bare float64
}

func benchRunner(ctx context.Context, cfg *config, dir string) (*table, error) {
	sizes, concs := []int{2000, 10000}, []int{16, 64, 256}
	if cfg.quick {
		sizes, concs = []int{500}, []int{16, 64}
	}
	srv, err := startServer()
	if err != nil {
		return nil, err
	}
	defer srv.close()
	t := &table{
		title: "runner: gavel run against a 50 ms OpenAI-compatible server",
		commands: []string{
			"gavel run SPEC --concurrency C --cache off --out DIR   # N examples × 2 variants; per example and variant one chain call and one llm_rubric call",
		},
	}
	var points []runnerPoint
	for _, n := range sizes {
		ndir := filepath.Join(dir, fmt.Sprint(n))
		if err := os.MkdirAll(ndir, 0o755); err != nil {
			return nil, err
		}
		if err := writeRunnerData(filepath.Join(ndir, "data.jsonl"), n); err != nil {
			return nil, err
		}
		spec := filepath.Join(ndir, "gavel.yaml")
		if err := writeFile(spec, fmt.Sprintf(runnerSpec, srv.url)); err != nil {
			return nil, err
		}
		for _, c := range concs {
			srv.reset()
			out := filepath.Join(ndir, fmt.Sprintf("run-c%d", c))
			res, err := cfg.child(ctx, ndir, cfg.gavel, "run", spec, "--concurrency", fmt.Sprint(c), "--cache", "off", "--out", out)
			if err != nil {
				return nil, err
			}
			p := runnerPoint{n: n, conc: c, res: res, requests: srv.requests.Load(), maxInflight: srv.maxInflight.Load()}
			if m := summaryLine.FindStringSubmatch(res.stdout); m != nil {
				p.status = fmt.Sprintf("%s, %s results, %s errors, %s judge errors", m[1], m[2], m[3], m[4])
			}
			if n == sizes[0] {
				reqs, wall, err := bareClient(ctx, srv.url, n*runnerVariants, c)
				if err != nil {
					return nil, err
				}
				p.bare = float64(reqs) / wall.Seconds() / (float64(c) / latency.Seconds())
			}
			points = append(points, p)
			cfg.remove(out)
		}
		cfg.remove(ndir)
	}
	if len(points) == 0 {
		return nil, errors.New("nothing measured")
	}
	for _, p := range points {
		label := fmt.Sprintf("N=%s, C=%d", fmtInt(int64(p.n)), p.conc)
		want := int64(p.n * runnerVariants * callsPerExample)
		reqs := fmt.Sprintf("%s (expected %s; at most %d in flight)", fmtInt(p.requests), fmtInt(want), p.maxInflight)
		if p.status != "" {
			reqs += "; " + p.status
		}
		t.add(label+": requests served", reqs, "", "")
		if p.n == 2000 && p.conc == 64 {
			t.goal(label+": wall", fmtDur(p.res.wall), "≤ 6.6 s", p.res.wall <= 6600*time.Millisecond)
		} else {
			t.add(label+": wall", fmtDur(p.res.wall), "", "")
		}
		achieved := float64(p.requests) / p.res.wall.Seconds()
		bound := float64(p.conc) / latency.Seconds()
		eff := achieved / bound
		t.goal(label+": requests/s ÷ theoretical (C ÷ 50 ms)",
			fmt.Sprintf("%.3f (%s/s of %s/s)", eff, fmtInt(int64(achieved+0.5)), fmtInt(int64(bound))), "≥ 0.95", eff >= 0.95)
		if p.bare > 0 {
			t.add(label+": a bare net/http client, same requests: requests/s ÷ theoretical", fmt.Sprintf("%.3f", p.bare), "", "")
			t.add(label+": gavel ÷ the bare client", fmt.Sprintf("%.3f", eff/p.bare), "", "")
		}
		if p.n == 2000 {
			t.goal(label+": peak RSS", fmtMiB(p.res.maxRSS), "≤ 60 MB (57.2 MiB)", p.res.maxRSS <= 60*mb)
		} else {
			t.add(label+": peak RSS", fmtMiB(p.res.maxRSS), "", "")
		}
	}
	for _, c := range concs {
		var small, large *runnerPoint
		for i := range points {
			if points[i].conc == c && points[i].n == 2000 {
				small = &points[i]
			}
			if points[i].conc == c && points[i].n == 10000 {
				large = &points[i]
			}
		}
		if small == nil || large == nil || small.res.maxRSS == 0 {
			continue
		}
		g := float64(large.res.maxRSS) / float64(small.res.maxRSS)
		t.goal(fmt.Sprintf("C=%d: peak RSS growth 2,000 → 10,000", c),
			fmt.Sprintf("%.2f× (%s → %s)", g, fmtMiB(small.res.maxRSS), fmtMiB(large.res.maxRSS)), "≤ 1.2×", g <= 1.2)
	}
	if cfg.quick {
		t.notes = append(t.notes, "-quick: N = 500 only, so the goals set at 2,000 examples (wall, peak RSS) and the growth 2,000 → 10,000 are not measured.")
	}
	t.notes = append(t.notes, strings.TrimSpace(`
Theoretical: C requests in flight at all times, each answered after 50 ms,
so C ÷ 50 ms requests/s; the wall time is the whole child process
(start-up, dataset validation, Parquet files, manifest, summary). The server
runs in the bench process, on the same cores; peak RSS is gavel's alone.
The bare client (scripts/bench/bare.go) makes the same requests from the
bench process with net/http and encoding/json alone, C at a time, a chain
call then a judge call per job, and is timed from its first request to its
last: what any client reaches on this machine with this server.`))
	return t, nil
}
