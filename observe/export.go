package observe

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/gavel-eval/gavel/otlp"
	"github.com/gavel-eval/gavel/traces"
)

// TracesFile is the file DirExporter writes in its directory.
const TracesFile = "traces.parquet"

// DirExporter is an OpenTelemetry span exporter that writes a directory's
// traces.parquet, the schema gavel run writes: the spans mapped as gavel
// collect maps them (kinds, inputs, outputs, tokens), the resource's
// service.name as the variant and the session id as the example id. The
// file is written under a temporary name and appears when Shutdown
// completes it.
type DirExporter struct {
	runID string

	mu   sync.Mutex
	file *otlp.SpanFile
	done bool
}

// NewDirExporter returns an exporter into dir (created), whose spans carry
// runID in their run_id column.
func NewDirExporter(dir, runID string) (*DirExporter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	final := filepath.Join(dir, TracesFile)
	if _, err := os.Stat(final); err == nil {
		return nil, fmt.Errorf("observe: %s already exists: choose another directory", final)
	}
	f, err := otlp.CreateSpanFile(final, false)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	return &DirExporter{runID: runID, file: f}, nil
}

// ExportSpans writes spans (sdktrace.SpanExporter).
func (e *DirExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return fmt.Errorf("observe: exporter shut down")
	}
	recs := make([]traces.Record, len(spans))
	for i, sp := range spans {
		recs[i] = recordOf(sp, e.runID)
	}
	if err := e.file.Write(recs); err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	return nil
}

// Shutdown completes traces.parquet (sdktrace.SpanExporter).
func (e *DirExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return nil
	}
	e.done = true
	if err := e.file.Close(); err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	return nil
}

// recordOf maps an SDK span to a gavel span record.
func recordOf(sp sdktrace.ReadOnlySpan, runID string) traces.Record {
	d := otlp.SpanData{
		TraceID: sp.SpanContext().TraceID().String(), SpanID: sp.SpanContext().SpanID().String(),
		Name: sp.Name(), Start: sp.StartTime(), End: sp.EndTime(),
		Attributes: attrMap(sp.Attributes()), Resource: attrMap(sp.Resource().Attributes()),
		Scope: sp.InstrumentationScope().Name, OTelKind: sp.SpanKind().String(),
		Error: sp.Status().Code == codes.Error, StatusMessage: sp.Status().Description,
	}
	if sp.Parent().IsValid() {
		d.ParentID = sp.Parent().SpanID().String()
	}
	for _, ev := range sp.Events() {
		d.Events = append(d.Events, otlp.Event{Name: ev.Name, Attributes: attrMap(ev.Attributes)})
	}
	s := otlp.Convert(d)
	rec := traces.Record{RunID: runID, ExampleIndex: -1, Span: s}
	rec.Variant, _ = d.Resource["service.name"].(string)
	rec.ExampleID, _ = s.Attributes["session_id"].(string)
	return rec
}

func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// Config says where Start sends spans.
type Config struct {
	// Service names the application (the resource's service.name; gavel
	// stores it as the variant).
	Service string
	// Dir, when set, receives traces.parquet (see DirExporter), with RunID
	// in its run_id column.
	Dir, RunID string
	// OTLPEndpoint, when set, is an OTLP/HTTP traces URL
	// (http://127.0.0.1:4318/v1/traces for gavel collect).
	OTLPEndpoint string
}

// Tracing is a TracerProvider set up by Start.
type Tracing struct {
	*sdktrace.TracerProvider
}

// Start makes an OpenTelemetry TracerProvider exporting to cfg's
// destinations (batched). It sets no global: pass it to Do through
// WithTracerProvider (see Tracing.Context), or install it with
// otel.SetTracerProvider. Shutdown flushes and completes the files.
func Start(ctx context.Context, cfg Config) (*Tracing, error) {
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", cfg.Service)))
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.Dir != "" {
		e, err := NewDirExporter(cfg.Dir, cfg.RunID)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(e))
	}
	if cfg.OTLPEndpoint != "" {
		e, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.OTLPEndpoint))
		if err != nil {
			return nil, fmt.Errorf("observe: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(e))
	}
	return &Tracing{sdktrace.NewTracerProvider(opts...)}, nil
}

// Context returns ctx whose Do spans t makes.
func (t *Tracing) Context(ctx context.Context) context.Context {
	return WithTracerProvider(ctx, t.TracerProvider)
}
