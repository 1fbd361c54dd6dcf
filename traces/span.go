package traces

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Kind is the component kind of a span. Reports colour spans by kind.
type Kind string

// Span kinds. Users may record other kinds; these are the ones gavel emits.
const (
	KindChain     Kind = "chain"
	KindLLM       Kind = "llm"
	KindTool      Kind = "tool"
	KindRetriever Kind = "retriever"
	KindParser    Kind = "parser"
	KindTemplate  Kind = "template"
	KindJudge     Kind = "judge"
	KindEmbedding Kind = "embedding"
	KindAgent     Kind = "agent"
	// KindSpan is a span of an application that says nothing of its kind
	// (collected over OTLP without GenAI or OpenInference attributes).
	KindSpan Kind = "span"
)

// Status is the outcome of a span.
type Status string

// Span statuses.
const (
	StatusOK    Status = "ok"
	StatusError Status = "error"
)

// Span is one timed unit of work inside a trace, as stored and read back.
type Span struct {
	TraceID    string
	SpanID     string
	ParentID   string // empty for the root span
	Name       string
	Kind       Kind
	Start      time.Time
	End        time.Time
	Status     Status
	Error      string
	Input      string // text, or JSON for structured values
	Output     string // text, or JSON for structured values
	Attributes map[string]any
}

// Duration is End minus Start.
func (s *Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// ActiveSpan is a span being recorded, as returned by Start. It is safe for
// concurrent use. All its methods are no-ops on a span started without a
// Recorder.
type ActiveSpan struct {
	mu   sync.Mutex
	rec  *Recorder
	seq  int
	done bool
	data Span
}

// SpanID returns the span's id ("" when nothing is recorded).
func (s *ActiveSpan) SpanID() string { return s.data.SpanID }

// TraceParent returns the W3C Trace Context traceparent of the span
// ("00-<trace id>-<span id>-01"), which an application called from it
// continues, or "" when nothing is recorded.
func (s *ActiveSpan) TraceParent() string {
	if s == nil || len(s.data.TraceID) != 32 || len(s.data.SpanID) != 16 {
		return ""
	}
	return "00-" + s.data.TraceID + "-" + s.data.SpanID + "-01"
}

// TraceID returns the id of the span's trace ("" when nothing is recorded).
func (s *ActiveSpan) TraceID() string { return s.data.TraceID }

// SetInput records the span's input. Strings are stored as they are; other
// values are stored as JSON.
func (s *ActiveSpan) SetInput(v any) {
	if s.rec == nil {
		return
	}
	text := encode(v)
	s.mu.Lock()
	s.data.Input = text
	s.mu.Unlock()
}

// SetOutput records the span's output, encoded like SetInput.
func (s *ActiveSpan) SetOutput(v any) {
	if s.rec == nil {
		return
	}
	text := encode(v)
	s.mu.Lock()
	s.data.Output = text
	s.mu.Unlock()
}

// SetAttr sets one attribute (model, params, tokens, cost, ...). Values must
// be JSON-encodable.
func (s *ActiveSpan) SetAttr(key string, v any) {
	if s.rec == nil {
		return
	}
	s.mu.Lock()
	if s.data.Attributes == nil {
		s.data.Attributes = map[string]any{}
	}
	s.data.Attributes[key] = v
	s.mu.Unlock()
}

// End closes the span. A non-nil err marks it failed with err's message.
// Calling End more than once has no further effect.
func (s *ActiveSpan) End(err error) {
	if s.rec == nil {
		return
	}
	now := s.rec.now()
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done = true
	s.data.End = now
	if now.Before(s.data.Start) {
		s.data.End = s.data.Start
	}
	s.data.Status = StatusOK
	if err != nil {
		s.data.Status = StatusError
		s.data.Error = err.Error()
	}
	s.mu.Unlock()
	s.rec.finish(s)
}

// snapshot returns a copy of the span's data.
func (s *ActiveSpan) snapshot() Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.data
	if len(s.data.Attributes) > 0 {
		c.Attributes = make(map[string]any, len(s.data.Attributes))
		for k, v := range s.data.Attributes {
			c.Attributes[k] = v
		}
	}
	return c
}

func encode(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case json.RawMessage:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// Recorder collects the spans of one trace. Span ids are derived from the
// trace id and the order in which spans start, so a trace recorded twice in
// the same order gets the same ids.
type Recorder struct {
	traceID string
	now     func() time.Time

	mu       sync.Mutex
	started  int
	finished []*ActiveSpan
}

// NewRecorder returns a Recorder for the trace traceID. now is the clock;
// nil means time.Now.
func NewRecorder(traceID string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{traceID: traceID, now: now}
}

// TraceID returns the id of the trace being recorded.
func (r *Recorder) TraceID() string { return r.traceID }

func (r *Recorder) finish(s *ActiveSpan) {
	r.mu.Lock()
	r.finished = append(r.finished, s)
	r.mu.Unlock()
}

// Spans returns the finished spans in the order they started.
func (r *Recorder) Spans() []Span {
	r.mu.Lock()
	fin := append([]*ActiveSpan(nil), r.finished...)
	r.mu.Unlock()
	sort.Slice(fin, func(i, j int) bool { return fin[i].seq < fin[j].seq })
	out := make([]Span, len(fin))
	for i, s := range fin {
		out[i] = s.snapshot()
	}
	return out
}

type ctxKey int

const (
	recorderKey ctxKey = iota
	spanKey
)

// WithRecorder returns a context whose spans are recorded by r.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, recorderKey, r)
}

// RecorderFrom returns the Recorder of ctx, or nil.
func RecorderFrom(ctx context.Context) *Recorder {
	r, _ := ctx.Value(recorderKey).(*Recorder)
	return r
}

// SpanFrom returns the innermost open span of ctx, or nil.
func SpanFrom(ctx context.Context) *ActiveSpan {
	s, _ := ctx.Value(spanKey).(*ActiveSpan)
	return s
}

// Start begins a span named name as a child of the span in ctx. It returns a
// context carrying the new span, for its children. Without a Recorder in ctx
// the span records nothing, and all its methods are no-ops.
func Start(ctx context.Context, name string, kind Kind) (context.Context, *ActiveSpan) {
	r := RecorderFrom(ctx)
	if r == nil {
		return ctx, &ActiveSpan{}
	}
	r.mu.Lock()
	seq := r.started
	r.started++
	r.mu.Unlock()
	s := &ActiveSpan{rec: r, seq: seq, data: Span{
		TraceID: r.traceID,
		SpanID:  spanID(r.traceID, seq),
		Name:    name,
		Kind:    kind,
		Start:   r.now(),
	}}
	if parent := SpanFrom(ctx); parent != nil && parent.rec == r {
		s.data.ParentID = parent.data.SpanID
	}
	return context.WithValue(ctx, spanKey, s), s
}

func spanID(traceID string, seq int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", traceID, seq)))
	return hex.EncodeToString(h[:8])
}

// TraceID derives a stable trace id from its parts (for example run id,
// variant, example id and epoch).
func TraceID(parts ...string) string {
	var small [256]byte
	b := small[:0]
	for _, p := range parts { // each part as "%d:%s;": its length, then it
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
		b = append(b, ';')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
