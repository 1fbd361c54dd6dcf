package traces_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/traces"
)

// stepClock is a clock that advances by one millisecond per reading.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func newStepClock() *stepClock {
	return &stepClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func byName(spans []traces.Span) map[string]traces.Span {
	m := map[string]traces.Span{}
	for _, s := range spans {
		m[s.Name] = s
	}
	return m
}

func TestRecorderParentChild(t *testing.T) {
	t.Parallel()
	rec := traces.NewRecorder("trace-1", newStepClock().now)
	ctx := traces.WithRecorder(t.Context(), rec)
	if traces.RecorderFrom(ctx) != rec || traces.SpanFrom(ctx) != nil {
		t.Fatal("context does not carry the recorder alone")
	}

	rctx, root := traces.Start(ctx, "root", traces.KindChain)
	if traces.SpanFrom(rctx) != root {
		t.Error("SpanFrom does not return the started span")
	}
	cctx, child := traces.Start(rctx, "child", traces.KindLLM)
	_, grand := traces.Start(cctx, "grandchild", traces.KindTool)
	grand.End(nil)
	child.End(nil)
	_, sibling := traces.Start(rctx, "sibling", traces.KindParser)
	sibling.End(errors.New("bad parse"))
	_, top := traces.Start(ctx, "judge", traces.KindJudge)
	top.End(nil)
	root.End(nil)

	spans := rec.Spans()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 5", len(spans))
	}
	// Start order, whatever the order they ended in.
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
		if s.TraceID != "trace-1" {
			t.Errorf("span %s trace id %q", s.Name, s.TraceID)
		}
	}
	if fmt.Sprint(names) != "[root child grandchild sibling judge]" {
		t.Errorf("span order %v", names)
	}
	m := byName(spans)
	want := map[string]string{
		"root": "", "child": m["root"].SpanID, "grandchild": m["child"].SpanID,
		"sibling": m["root"].SpanID, "judge": "",
	}
	for name, parent := range want {
		if m[name].ParentID != parent {
			t.Errorf("%s: parent %q, want %q", name, m[name].ParentID, parent)
		}
	}
	ids := map[string]bool{}
	for _, s := range spans {
		if s.SpanID == "" || ids[s.SpanID] {
			t.Errorf("span %s: id %q empty or repeated", s.Name, s.SpanID)
		}
		ids[s.SpanID] = true
	}
	if m["root"].SpanID != root.SpanID() || root.TraceID() != "trace-1" {
		t.Errorf("ActiveSpan ids %q/%q differ from recorded", root.SpanID(), root.TraceID())
	}
	if s := m["sibling"]; s.Status != traces.StatusError || s.Error != "bad parse" || s.Kind != traces.KindParser {
		t.Errorf("failed span: %+v", s)
	}
	if s := m["child"]; s.Status != traces.StatusOK || s.Error != "" || s.Kind != traces.KindLLM {
		t.Errorf("ok span: %+v", s)
	}
	// With a clock that always advances, a parent encloses its children.
	if r, c := m["root"], m["child"]; !r.Start.Before(c.Start) || !c.End.Before(r.End) {
		t.Errorf("root %v..%v does not enclose child %v..%v", r.Start, r.End, c.Start, c.End)
	}
}

func TestRecorderDeterministicIDs(t *testing.T) {
	t.Parallel()
	record := func(traceID string) []traces.Span {
		rec := traces.NewRecorder(traceID, nil)
		ctx := traces.WithRecorder(context.Background(), rec)
		rctx, root := traces.Start(ctx, "root", traces.KindChain)
		for i := range 3 {
			_, s := traces.Start(rctx, fmt.Sprint("step", i), traces.KindTool)
			s.End(nil)
		}
		root.End(nil)
		return rec.Spans()
	}
	a, b, c := record("same"), record("same"), record("other")
	if len(a) != 4 || len(b) != 4 || len(c) != 4 {
		t.Fatalf("span counts %d %d %d", len(a), len(b), len(c))
	}
	for i := range a {
		if a[i].SpanID != b[i].SpanID || a[i].ParentID != b[i].ParentID {
			t.Errorf("span %d: ids %s/%s vs %s/%s for the same trace id", i, a[i].SpanID, a[i].ParentID, b[i].SpanID, b[i].ParentID)
		}
		if a[i].SpanID == c[i].SpanID {
			t.Errorf("span %d: id %s shared by two traces", i, a[i].SpanID)
		}
	}
}

func TestTraceIDUnambiguous(t *testing.T) {
	t.Parallel()
	if a, b := traces.TraceID("run", "v", "e", "0"), traces.TraceID("run", "v", "e", "0"); a != b {
		t.Error("TraceID is not stable")
	}
	// Stored runs hold these ids: the hash of each part as "%d:%s;".
	if got, want := traces.TraceID("run-1", "variant é", "ex:42", "0"), "52ecb2eda571f2d522a96bdd7043ff88"; got != want {
		t.Errorf("TraceID = %s, want %s (the ids of stored runs)", got, want)
	}
	pairs := [][2][]string{
		{{"ab", "c"}, {"a", "bc"}},
		{{"a", ""}, {"", "a"}},
		{{"a:b"}, {"a", "b"}},
		{{"run", "v", "e", "0"}, {"run", "v", "e", "1"}},
	}
	for _, p := range pairs {
		if traces.TraceID(p[0]...) == traces.TraceID(p[1]...) {
			t.Errorf("TraceID(%q) == TraceID(%q)", p[0], p[1])
		}
	}
	if id := traces.TraceID("x"); len(id) != 32 {
		t.Errorf("trace id %q: want 32 hex digits", id)
	}
}

func TestEndTwice(t *testing.T) {
	t.Parallel()
	clock := newStepClock()
	rec := traces.NewRecorder("t", clock.now)
	_, s := traces.Start(traces.WithRecorder(t.Context(), rec), "s", traces.KindTool)
	s.End(nil)
	first := rec.Spans()
	s.End(errors.New("late failure"))
	s.End(nil)
	spans := rec.Spans()
	if len(spans) != 1 {
		t.Fatalf("%d spans after ending twice, want 1", len(spans))
	}
	if spans[0].Status != traces.StatusOK || spans[0].Error != "" || !spans[0].End.Equal(first[0].End) {
		t.Errorf("second End changed the span: %+v, was %+v", spans[0], first[0])
	}
}

func TestEndBeforeStartClamped(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	readings := []time.Time{start, start.Add(-time.Second)} // the clock goes back
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := readings[0]
		if len(readings) > 1 {
			readings = readings[1:]
		}
		return t
	}
	rec := traces.NewRecorder("t", now)
	_, s := traces.Start(traces.WithRecorder(t.Context(), rec), "s", traces.KindTool)
	s.End(nil)
	sp := rec.Spans()[0]
	if !sp.Start.Equal(start) || !sp.End.Equal(start) || sp.Duration() != 0 {
		t.Errorf("span %v..%v (%v), want both at %v", sp.Start, sp.End, sp.Duration(), start)
	}
}

func TestNoRecorderIsNoOp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cctx, s := traces.Start(ctx, "s", traces.KindLLM)
	if cctx != ctx {
		t.Error("Start without a recorder changed the context")
	}
	if s == nil {
		t.Fatal("Start returned a nil span")
	}
	s.SetInput("in")
	s.SetOutput(map[string]int{"a": 1})
	s.SetAttr("k", "v")
	s.End(errors.New("x"))
	s.End(nil)
	if s.SpanID() != "" || s.TraceID() != "" {
		t.Errorf("no-op span has ids %q/%q", s.SpanID(), s.TraceID())
	}
	if traces.RecorderFrom(ctx) != nil || traces.SpanFrom(cctx) != nil {
		t.Error("a context without recorder reports one")
	}
}

type stringer struct{}

func (stringer) String() string { return "from String" }

func TestSpanValuesAndAttributes(t *testing.T) {
	t.Parallel()
	rec := traces.NewRecorder("t", nil)
	ctx := traces.WithRecorder(t.Context(), rec)
	cases := []struct {
		in   any
		want string
	}{
		{"plain text", "plain text"},
		{[]byte("bytes"), "bytes"},
		{map[string]any{"b": 2, "a": []int{1}}, `{"a":[1],"b":2}`},
		{stringer{}, "from String"},
		{nil, ""},
		{42, "42"},
	}
	for i, c := range cases {
		_, s := traces.Start(ctx, fmt.Sprint(i), traces.KindTool)
		s.SetInput(c.in)
		s.SetOutput(c.in)
		s.End(nil)
	}
	_, s := traces.Start(ctx, "attrs", traces.KindTool)
	s.SetAttr("model", "m")
	s.SetAttr("model", "m2")
	s.SetAttr("tokens", 7)
	s.End(nil)
	spans := rec.Spans()
	for i, c := range cases {
		if spans[i].Input != c.want || spans[i].Output != c.want {
			t.Errorf("value %#v stored as %q/%q, want %q", c.in, spans[i].Input, spans[i].Output, c.want)
		}
	}
	a := spans[len(cases)].Attributes
	if len(a) != 2 || a["model"] != "m2" || a["tokens"] != 7 {
		t.Errorf("attributes %v", a)
	}
	// Spans returns copies: changing them does not change the recorder.
	a["model"] = "changed"
	if rec.Spans()[len(cases)].Attributes["model"] != "m2" {
		t.Error("Spans shares its attribute maps with the recorder")
	}
}

func TestRecorderConcurrentSpans(t *testing.T) {
	t.Parallel()
	rec := traces.NewRecorder("t", nil)
	ctx := traces.WithRecorder(t.Context(), rec)
	rctx, root := traces.Start(ctx, "root", traces.KindChain)
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, s := traces.Start(rctx, fmt.Sprint("c", i), traces.KindTool)
			_, g := traces.Start(cctx, fmt.Sprint("g", i), traces.KindLLM)
			g.SetAttr("i", i)
			root.SetAttr(fmt.Sprint("seen", i), true)
			g.End(nil)
			s.End(nil)
		}()
	}
	wg.Wait()
	root.End(nil)
	spans := rec.Spans()
	if len(spans) != 2*n+1 {
		t.Fatalf("%d spans, want %d", len(spans), 2*n+1)
	}
	m := byName(spans)
	ids := map[string]bool{}
	for _, s := range spans {
		if ids[s.SpanID] {
			t.Errorf("duplicate span id %s", s.SpanID)
		}
		ids[s.SpanID] = true
	}
	for i := range n {
		c, g := m[fmt.Sprint("c", i)], m[fmt.Sprint("g", i)]
		if c.ParentID != m["root"].SpanID || g.ParentID != c.SpanID {
			t.Errorf("pair %d: parents %q, %q", i, c.ParentID, g.ParentID)
		}
	}
	if len(m["root"].Attributes) != n {
		t.Errorf("root has %d attributes, want %d", len(m["root"].Attributes), n)
	}
}

func TestSpanOfAnotherRecorderIsNotParent(t *testing.T) {
	t.Parallel()
	recA := traces.NewRecorder("a", nil)
	recB := traces.NewRecorder("b", nil)
	actx, parent := traces.Start(traces.WithRecorder(t.Context(), recA), "pa", traces.KindChain)
	// A context carrying A's span but B's recorder: B's span is a root.
	_, child := traces.Start(traces.WithRecorder(actx, recB), "cb", traces.KindTool)
	child.End(nil)
	parent.End(nil)
	if got := recB.Spans(); len(got) != 1 || got[0].ParentID != "" || got[0].TraceID != "b" {
		t.Errorf("B's spans %+v, want one root in trace b", got)
	}
	if got := recA.Spans(); len(got) != 1 {
		t.Errorf("A recorded %d spans, want 1", len(got))
	}
}

func TestUnendedSpansAreNotRecorded(t *testing.T) {
	t.Parallel()
	rec := traces.NewRecorder("t", nil)
	ctx := traces.WithRecorder(t.Context(), rec)
	_, open := traces.Start(ctx, "open", traces.KindTool)
	_, done := traces.Start(ctx, "done", traces.KindTool)
	done.End(nil)
	if got := rec.Spans(); len(got) != 1 || got[0].Name != "done" {
		t.Errorf("spans %+v, want only the ended one", got)
	}
	open.End(nil)
	if got := rec.Spans(); len(got) != 2 || got[0].Name != "open" {
		t.Errorf("after ending: %+v", got)
	}
}
