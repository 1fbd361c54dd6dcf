// Package redact removes credentials from text that gavel keeps: known
// secret values (API keys, values a step took from the environment),
// bearer tokens, and the credentials of URLs. It is a leaf: it imports
// nothing of gavel's, so the model client, the runner and the report share
// one implementation.
//
// The order matters and is always the same: redact first, then truncate,
// then redact whatever prefix of a secret the cut left at the end. A
// message cut before it is redacted can keep a secret nearly whole when
// the secret straddles the cut.
package redact

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Mark replaces a redacted value.
const Mark = "[redacted]"

// MinSecret is the length in bytes below which a value is not treated as
// a secret: replacing every "ab" would garble a message and protect
// nothing.
const MinSecret = 4

// MinPrefix is the length in bytes of the shortest prefix of a secret that
// is redacted when it ends a string (a secret cut short by a truncation,
// ours or the server's).
const MinPrefix = 8

// Secrets is a set of known secret values. The zero value and nil hold
// none. A Secrets is never changed after it is built, so it is safe for
// concurrent use.
type Secrets struct {
	values []string // distinct, each at least MinSecret bytes, longest first
}

// New returns the set of the given values, leaving out those shorter than
// MinSecret bytes and surrounding white space.
func New(values ...string) *Secrets {
	return (*Secrets)(nil).With(values...)
}

// With returns a new set holding s's values and the given ones; s is left
// unchanged.
func (s *Secrets) With(values ...string) *Secrets {
	seen := map[string]bool{}
	out := &Secrets{}
	add := func(v string) {
		if len(v) < MinSecret || seen[v] {
			return
		}
		seen[v] = true
		out.values = append(out.values, v)
	}
	if s != nil {
		for _, v := range s.values {
			add(v)
		}
	}
	for _, v := range values {
		add(v)
		if t := strings.TrimSpace(v); t != v {
			add(t)
		}
	}
	sort.SliceStable(out.values, func(i, j int) bool { return len(out.values[i]) > len(out.values[j]) })
	return out
}

// Union returns a new set holding the values of s and o; either may be
// nil.
func (s *Secrets) Union(o *Secrets) *Secrets {
	if o == nil {
		return s.With()
	}
	return s.With(o.values...)
}

// Len returns the number of values in the set.
func (s *Secrets) Len() int {
	if s == nil {
		return 0
	}
	return len(s.values)
}

// String returns text with every occurrence of a secret replaced by Mark,
// and a prefix of at least MinPrefix bytes of a secret at the very end of
// text (a secret cut short) replaced too. Overlapping and adjacent
// occurrences become one Mark.
func (s *Secrets) String(text string) string {
	if s.Len() == 0 || text == "" {
		return text
	}
	var spans []span
	for _, v := range s.values {
		for from := 0; from < len(text); {
			i := strings.Index(text[from:], v)
			if i < 0 {
				break
			}
			start := from + i
			spans = append(spans, span{start, start + len(v)})
			from = start + 1
		}
	}
	if n := s.trailingPrefix(text); n > 0 {
		spans = append(spans, span{len(text) - n, len(text)})
	}
	return replaceSpans(text, spans)
}

// Truncate redacts text (String), then keeps at most n runes of it,
// adding ellipsis when it cut, and redacts a prefix of a secret left at
// the end of what it kept.
func (s *Secrets) Truncate(text string, n int, ellipsis string) string {
	return s.truncate(s.String(text), n, ellipsis)
}

func (s *Secrets) truncate(red string, n int, ellipsis string) string {
	if n < 0 {
		n = 0
	}
	if len(red) <= n || utf8.RuneCountInString(red) <= n {
		return red
	}
	cut := len(red)
	i := 0
	for pos := range red {
		if i == n {
			cut = pos
			break
		}
		i++
	}
	kept := red[:cut]
	if p := s.trailingPrefix(kept); p > 0 {
		kept = kept[:len(kept)-p] + Mark
	}
	return kept + ellipsis
}

// Text redacts text as String does, removes bearer tokens and the
// credentials of URLs in it (Text below), then truncates as Truncate does.
// It is what every message a server or a user's program sent back goes
// through before gavel keeps it; n < 0 keeps it whole.
func (s *Secrets) Text(text string, n int, ellipsis string) string {
	red := s.String(Text(text))
	if n < 0 {
		return red
	}
	return s.truncate(red, n, ellipsis)
}

// trailingPrefix returns the length of the longest proper prefix of a
// secret, at least MinPrefix bytes, that ends text; 0 if none.
func (s *Secrets) trailingPrefix(text string) int {
	if s == nil {
		return 0
	}
	best := 0
	for _, v := range s.values {
		max := len(v) - 1
		if max > len(text) {
			max = len(text)
		}
		for l := max; l >= MinPrefix && l > best; l-- {
			if strings.HasSuffix(text, v[:l]) {
				best = l
				break
			}
		}
	}
	return best
}

type span struct{ start, end int }

// replaceSpans replaces the union of spans in text by one Mark per
// maximal run.
func replaceSpans(text string, spans []span) string {
	if len(spans) == 0 {
		return text
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	b.Grow(len(text))
	pos := 0
	cur := spans[0]
	flush := func() {
		b.WriteString(text[pos:cur.start])
		b.WriteString(Mark)
		pos = cur.end
	}
	for _, sp := range spans[1:] {
		if sp.start <= cur.end {
			if sp.end > cur.end {
				cur.end = sp.end
			}
			continue
		}
		flush()
		cur = sp
	}
	flush()
	b.WriteString(text[pos:])
	return b.String()
}

// Truncate keeps at most n runes of text, adding ellipsis when it cut.
// Use Secrets.Truncate when text may hold a known secret.
func Truncate(text string, n int, ellipsis string) string {
	return (*Secrets)(nil).truncate(text, n, ellipsis)
}

// secretName matches names of configuration keys, header names and query
// parameters whose values are credentials.
var secretName = regexp.MustCompile(`(?i)(^|[_\-.])(authorization|api[_\-]?key|apikey|token|secret|password|passwd|credential|cookie|private[_\-]?key|access[_\-]?key)s?($|[_\-.])`)

// IsSecretName reports whether a configuration key or header named name
// holds a credential ("api_key", "Authorization", "x-auth-token",
// "client_secret", ...).
func IsSecretName(name string) bool { return secretName.MatchString(name) }

// IsSecretParam reports whether a URL query parameter named name holds a
// credential: a secret name (IsSecretName), or key, sig, signature, code,
// auth.
func IsSecretParam(name string) bool {
	switch strings.ToLower(name) {
	case "key", "sig", "signature", "code", "auth":
		return true
	}
	return IsSecretName(name) || strings.HasSuffix(strings.ToLower(name), "signature")
}

// URL returns s with the credentials of a URL removed: its user info
// (user:password@) and the values of query parameters named like
// credentials (api-key, api_key, key, token, access_token, secret,
// password, sig, signature, ...). Text that is not an absolute URL is
// returned as it is.
func URL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		// Unparseable: still take out what looks like credentials.
		return Text(s)
	}
	changed := false
	if u.User != nil {
		u.User = url.User(Mark)
		changed = true
	}
	q := u.Query()
	for k := range q {
		if IsSecretParam(k) {
			q.Set(k, Mark)
			changed = true
		}
	}
	if !changed {
		return s
	}
	u.RawQuery = q.Encode()
	out := u.String()
	out = strings.ReplaceAll(out, url.QueryEscape(Mark), Mark)
	return strings.ReplaceAll(out, url.PathEscape(Mark), Mark)
}

// URLSecrets returns the credentials written in a URL, to add to a
// Secrets: its password (or its user name when it has no password, a
// token written as https://TOKEN@host) and the values of its query
// parameters named like credentials.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		} else {
			out = append(out, u.User.Username())
		}
	}
	for k, vs := range u.Query() {
		if IsSecretParam(k) {
			out = append(out, vs...)
		}
	}
	return out
}

var (
	// bearer matches a bearer token in free text.
	bearer = regexp.MustCompile(`(?i)\b(bearer)(\s+|%20)[A-Za-z0-9\-._~+/]+=*`)
	// userInfo matches the credentials of a URL: scheme://user:password@.
	userInfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/\s@"'<>]+@`)
	// queryParam matches a query parameter of a URL in free text.
	// The value stops at punctuation that ends it in prose ("...?key=v: error").
	queryParam = regexp.MustCompile(`([?&;])([A-Za-z0-9_.\-]+)=([^&\s"'<>#,;:)\]]*)`)
)

// Text removes from free text (an error message, a server's reply, the
// spec's YAML) bearer tokens ("Bearer [redacted]"; a token is at least
// MinPrefix characters with a digit or punctuation, so "bearer token" in
// prose stays) and the credentials of
// URLs in it: user info and query parameters named like credentials.
func Text(s string) string {
	if s == "" {
		return s
	}
	if strings.Contains(strings.ToLower(s), "bearer") {
		s = bearer.ReplaceAllStringFunc(s, func(m string) string {
			sub := bearer.FindStringSubmatch(m)
			tok := m[len(sub[1])+len(sub[2]):]
			// "bearer token", "Bearer authentication": words, not tokens.
			if len(tok) < MinPrefix || !strings.ContainsAny(tok, "0123456789-._~+/=") {
				return m
			}
			return sub[1] + " " + Mark
		})
	}
	if strings.Contains(s, "://") {
		s = userInfo.ReplaceAllString(s, "${1}"+Mark+"@")
	}
	if strings.ContainsAny(s, "?&;") && strings.Contains(s, "=") {
		s = queryParam.ReplaceAllStringFunc(s, func(m string) string {
			sub := queryParam.FindStringSubmatch(m)
			if sub[3] == "" || strings.HasPrefix(sub[3], Mark[:len(Mark)-1]) || !IsSecretParam(sub[2]) {
				return m
			}
			return sub[1] + sub[2] + "=" + Mark
		})
	}
	return s
}
