package otlp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ReadFile reads an OTLP JSON file: one ExportTraceServiceRequest (as an
// SDK's file exporter writes), or several one after another, typically
// one per line (as the OpenTelemetry collector's file exporter writes).
// Every request of the file is decoded before any is returned, and an
// error names the file and the line where the failing request starts.
func ReadFile(path string) ([]ptrace.Traces, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	var out []ptrace.Traces
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		// The request starts at its first non-blank byte.
		rest := bytes.TrimLeft(data[start:], " \t\r\n")
		line := 1 + bytes.Count(data[:len(data)-len(rest)], []byte("\n"))
		if err != nil {
			return nil, fmt.Errorf("%s line %d: invalid JSON: %w", path, line, err)
		}
		td, err := Decode(raw, ContentJSON)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, td)
	}
}
