package otlp_test

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/gavel-eval/gavel/otlp"
)

// FuzzDecode: any body, as protobuf or JSON, is decoded and converted
// without a panic; what converts has ids on every span.
func FuzzDecode(f *testing.F) {
	req := ptraceotlp.NewExportRequestFromTraces(appTraces())
	pb, _ := req.MarshalProto()
	js, _ := req.MarshalJSON()
	f.Add(pb, false)
	f.Add(js, true)
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01","spanId":"02"}]}]}]}`), true)
	f.Add([]byte{0x0a, 0x80}, false)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := otlp.ContentProtobuf
		if asJSON {
			ct = otlp.ContentJSON
		}
		td, err := otlp.Decode(body, ct)
		if err != nil {
			return
		}
		recs, err := otlp.Records(td, "f")
		if err != nil {
			return
		}
		for _, r := range recs {
			if len(r.TraceID) != 32 || len(r.SpanID) != 16 || r.End.Before(r.Start) {
				t.Fatalf("span %+v", r.Span)
			}
		}
	})
}
