package otlp

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// TracesPath is the OTLP/HTTP path of trace exports.
const TracesPath = "/v1/traces"

// DefaultMaxBody is the largest request body Handler accepts, after
// decompression.
const DefaultMaxBody = 16 << 20

// HandlerOptions tune Handler.
type HandlerOptions struct {
	// MaxBody is the largest body accepted, decompressed (DefaultMaxBody
	// when 0).
	MaxBody int64
	// RunID names the collection in the run_id column.
	RunID string
	// OnBatch, when set, is told of each stored batch's span count.
	OnBatch func(spans int)
}

// Handler is an OTLP/HTTP trace receiver: POST TracesPath with an
// ExportTraceServiceRequest as protobuf or JSON, optionally gzip-encoded.
// A request's spans are stored in sink together or not at all: a body
// over the size limit or that does not decode is answered 400 with the
// reason (as an OTLP Status in the request's encoding) and nothing of it
// is stored. Cross-site browser requests are refused (403); only the two
// OTLP content types are accepted (415), which a web page cannot send
// without a CORS preflight this receiver never grants.
func Handler(sink *Sink, opts HandlerOptions) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	mux := http.NewServeMux()
	mux.HandleFunc(TracesPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST OTLP trace exports here", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			http.Error(w, "forbidden: cross-site request", http.StatusForbidden)
			return
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != ContentProtobuf && mt != ContentJSON {
			writeStatus(w, ContentJSON, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported content type %q: send %s or %s", r.Header.Get("Content-Type"), ContentProtobuf, ContentJSON))
			return
		}
		body, err := readBody(w, r, opts.MaxBody)
		if err != nil {
			code := http.StatusBadRequest
			var ue unsupportedEncoding
			if errors.As(err, &ue) {
				code = http.StatusUnsupportedMediaType
			}
			writeStatus(w, mt, code, err.Error())
			return
		}
		td, err := Decode(body, mt)
		if err != nil {
			writeStatus(w, mt, http.StatusBadRequest, err.Error())
			return
		}
		recs, err := Records(td, opts.RunID)
		if err != nil {
			writeStatus(w, mt, http.StatusBadRequest, err.Error())
			return
		}
		if err := sink.Write(recs); err != nil {
			writeStatus(w, mt, http.StatusServiceUnavailable, "storing the spans failed: "+err.Error())
			return
		}
		if opts.OnBatch != nil {
			opts.OnBatch(len(recs))
		}
		resp := ptraceotlp.NewExportResponse()
		var b []byte
		if mt == ContentJSON {
			b, err = resp.MarshalJSON()
		} else {
			b, err = resp.MarshalProto()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", mt)
		w.WriteHeader(http.StatusOK)
		w.Write(b)
	})
	return mux
}

type unsupportedEncoding string

func (e unsupportedEncoding) Error() string {
	return fmt.Sprintf("unsupported content encoding %q: send gzip or none", string(e))
}

// readBody reads the request body, gunzipped when it says so, refusing
// more than max bytes (compressed or not).
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, max)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("invalid gzip body: %w", err)
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, unsupportedEncoding(enc)
	}
	b, err := io.ReadAll(io.LimitReader(rd, max+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, fmt.Errorf("body over the size limit of %d bytes", max)
	case err != nil:
		return nil, fmt.Errorf("reading the body: %w", err)
	case int64(len(b)) > max:
		return nil, fmt.Errorf("body over the size limit of %d bytes (decompressed)", max)
	}
	return b, nil
}

// writeStatus answers with code and an OTLP Status message giving why,
// in the request's encoding.
func writeStatus(w http.ResponseWriter, contentType string, code int, msg string) {
	st := &status.Status{Code: 3, Message: msg} // INVALID_ARGUMENT
	if code >= 500 {
		st.Code = 14 // UNAVAILABLE
	}
	var b []byte
	if contentType == ContentProtobuf {
		b, _ = proto.Marshal(st)
	} else {
		b, _ = json.Marshal(struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}{st.Code, msg})
		contentType = ContentJSON
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(b)
}
