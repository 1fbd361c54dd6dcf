package canonjson

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// reference is what encoding/json writes for v: json.Marshal with HTML
// escaping, an Encoder with SetEscapeHTML(false) (less its newline)
// without; ok is false when it refuses v.
func reference(v any, html bool) ([]byte, bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

// check fails unless Append writes what encoding/json writes for v, or
// refuses what encoding/json refuses; with strict false, v may also hold
// a type Append leaves to encoding/json, which it must then refuse.
func check(t *testing.T, v any, strict bool) {
	t.Helper()
	for _, html := range []bool{true, false} {
		want, wantOK := reference(v, html)
		got, ok := Append([]byte("prefix"), v, html)
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("%#v: the prefix was lost: %q", v, got)
		}
		got = got[len("prefix"):]
		if !ok && wantOK && !strict {
			continue // a type left to encoding/json
		}
		if ok != wantOK || ok && !bytes.Equal(got, want) {
			t.Fatalf("%#v (html %v): got %q, %v; encoding/json %q, %v", v, html, got, ok, want, wantOK)
		}
	}
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, false, "", "plain", `quote " and \ backslash`, "\b\f\n\r\t\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf-8 \xe2\x82", "\xed\xa0\x80",
		json.Number("12"), json.Number("-0.5e+10"), json.Number(""), json.Number("01"), json.Number("1."), json.Number("abc"),
		0, -7, int64(math.MaxInt64), int64(math.MinInt64),
		0.0, math.Copysign(0, -1), 1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, -3.4e-300, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1),
		[]any(nil), []any{}, []any{1.0, "x", nil, []any{true}}, map[string]any(nil), map[string]any{},
		map[string]any{"b": 1.0, "a": "x", "é": nil, "A": []any{map[string]any{"z": json.Number("3"), "y": false}}, "<k>": "&"},
		map[string]any{"bad": math.NaN()},
	} {
		check(t, v, true)
	}
	for _, v := range []any{[]any{"ok", make(chan int)}, struct{ A int }{1}, float32(1.5), uint8(3), map[string]any{"t": []string{"x"}}} {
		if _, ok := Append(nil, v, true); ok {
			t.Errorf("%#v: Append took a type it leaves to encoding/json", v)
		}
		check(t, v, false)
	}
	if got, ok := Append([]byte("keep"), map[string]any{"a": 1.0, "z": math.Inf(1)}, false); ok || string(got) != "keep" {
		t.Errorf("a refused value left %q, %v; want the input unchanged and false", got, ok)
	}
}

// Every JSON document, decoded the two ways datasets decode (numbers as
// json.Number, and as float64), and any string with arbitrary bytes, as a
// key and as a value, give the bytes encoding/json gives.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,null,"x"]}`, `"\u2028<&>"`, `[1e400]`, `{"\u00e9":{"":-0.0}}`, "\xff", `[1.5e-7, 1e21]`} {
		f.Add([]byte(s), uint64(0))
	}
	f.Fuzz(func(t *testing.T, doc []byte, bits uint64) {
		for _, number := range []bool{true, false} {
			dec := json.NewDecoder(bytes.NewReader(doc))
			if number {
				dec.UseNumber()
			}
			var v any
			if dec.Decode(&v) == nil {
				check(t, v, true)
			}
		}
		s := string(doc)
		check(t, map[string]any{s: s, "f": math.Float64frombits(bits), strings.ToUpper(s): []any{s, json.Number(s)}}, true)
	})
}

func BenchmarkAppend(b *testing.B) {
	row := map[string]any{"question": "What is 12 × 7? Show <work> & answer.", "answer": json.Number("84"), "id": "gsm-0001",
		"tags": []any{"math", "easy"}, "score": 0.75}
	b.Run("canonjson", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = Append(buf[:0], row, true)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(row)
		}
	})
}
