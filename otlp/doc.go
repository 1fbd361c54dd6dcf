// Package otlp brings OpenTelemetry traces into gavel's span model: it
// decodes OTLP/HTTP trace requests (protobuf or JSON, with the
// OpenTelemetry collector's pdata), maps the GenAI semantic conventions
// (gen_ai.*) and OpenInference's attributes (openinference.span.kind,
// input.value, llm.token_count.*) to gavel's span kinds, inputs, outputs
// and token counts, and writes the spans to rolling Parquet files of the
// traces.parquet schema in bounded memory. Handler is the receiver behind
// `gavel collect`; ReadFile reads OTLP JSON files for `gavel import`.
package otlp
