// Package canonjson appends the JSON of decoded JSON values (maps of
// strings to values, slices, strings, numbers, booleans and nulls) byte
// for byte as encoding/json writes them, map keys sorted, without
// encoding/json's reflection: a dataset row's JSON is made for every
// example (its content id, the input stored with its result), and it was
// a tenth of the CPU of scoring a large file. Other types are refused, and
// the caller then uses encoding/json, so the bytes are the same either
// way. It is a leaf: it imports nothing of gavel's.
package canonjson

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Append appends the JSON encoding of v to dst as json.Marshal writes it
// when escapeHTML is true (<, > and & escaped), and as a json.Encoder
// with SetEscapeHTML(false) writes it, without the newline, when false.
// v may be nil, a bool, a string, a json.Number, an int, int64 or float64,
// a []any or a map[string]any of such values, nested. ok is false, and dst
// is returned as it was, for any other type and for the values
// encoding/json refuses (NaN, infinities, a json.Number that is not a
// number).
func Append(dst []byte, v any, escapeHTML bool) (out []byte, ok bool) {
	n := len(dst)
	out, ok = appendValue(dst, v, escapeHTML)
	if !ok {
		return dst[:n], false
	}
	return out, true
}

func appendValue(dst []byte, v any, html bool) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case string:
		return appendString(dst, v, html), true
	case json.Number:
		s := string(v)
		if s == "" {
			s = "0" // encoding/json's zero Number
		}
		if !validNumber(s) {
			return dst, false
		}
		return append(dst, s...), true
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case float64:
		return appendFloat(dst, v)
	case []any:
		if v == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendValue(dst, e, html); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), true
		}
		var small [16]string // most rows have few fields
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k, html)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendValue(dst, v[k], html); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	default:
		return dst, false
	}
}

// appendFloat writes f as encoding/json does: like ES6's number to string,
// %f between 1e-6 and 1e21 and %e outside, the exponent unpadded.
func appendFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

const hex = "0123456789abcdef"

// plain[html][b] is true for the bytes written as they are: ASCII but
// control characters, quote and backslash (and <, > and & with html).
// Bytes from 0x80 start a UTF-8 sequence, checked on their own.
var plain = func() (t [2][256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[0][b] = b != '"' && b != '\\'
		t[1][b] = t[0][b] && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendString writes s as a JSON string the way encoding/json does:
// quote, backslash and control characters escaped (\b, \f, \n, \r and \t
// by name, the others as \u00XX), <, > and & too when html, each invalid
// UTF-8 byte as \ufffd, and U+2028 and U+2029 escaped.
func appendString(dst []byte, s string, html bool) []byte {
	safe := &plain[0]
	if html {
		safe = &plain[1]
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && safe[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validNumber reports whether s is a JSON number literal (RFC 8259,
// section 6).
func validNumber(s string) bool {
	digits := func(s string) (string, bool) {
		i := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return s[i:], i > 0
	}
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	switch {
	case s == "":
		return false
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s, _ = digits(s)
	default:
		return false
	}
	if s != "" && s[0] == '.' {
		var ok bool
		if s, ok = digits(s[1:]); !ok {
			return false
		}
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s != "" && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		var ok bool
		if s, ok = digits(s); !ok {
			return false
		}
	}
	return s == ""
}
