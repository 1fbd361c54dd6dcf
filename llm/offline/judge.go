package offline

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/gavel-eval/gavel/llm"
)

// This file holds two offline stand-ins: offline/judge, a fake judge model,
// and offline/embed, a hashed bag-of-words embedding. Neither understands
// language; they exist so that LLM judges and meaning-based judges run in
// the quickstart and the tests with no key and no network.

// Markers of the judged output and the reference answer in a judge prompt:
// gavel's own ("[Output]:", "[Reference]:") and OpenAI Evals' ("[Submission]:",
// "[Expert]:"). A marked section runs to the next "***" line or "[END DATA]".
var (
	outputMarkers    = []string{"[Output]:", "[Submission]:"}
	referenceMarkers = []string{"[Reference]:", "[Expert]:"}
)

// offlineVerdict is offline/judge's decision on one request.
type offlineVerdict struct {
	pass     bool
	score    float64 // 0..1
	reason   string
	grounded bool    // derived from the output and the reference, not a hash
	u        float64 // a uniform hash of the request in [0, 1)
}

// judgeReply is offline/judge's reply to choice number choice of req.
//
// It finds the judged output and the reference in the last user message
// by gavel's markers (or OpenAI Evals'). When it finds both, the verdict
// passes when more than half of the reference's distinct words (lowercased
// runs of letters and digits) appear in the output, and the score is that
// fraction; otherwise the verdict is a hash of the request (model, messages,
// seed, choice): it passes with probability 1/2 and its score is uniform.
// It then replies:
//
//   - with a json_schema response format, a JSON object conforming to the
//     schema: booleans are the verdict, numbers and integers the score
//     mapped onto [minimum, maximum] (default [0, 1], or [0, 10] for
//     integers), strings the reason, and an enum (or const) the first value
//     when a grounded verdict passes, the last when it fails, a
//     hash-chosen one otherwise (gavel's judges list their best choice
//     first); arrays are empty unless minItems asks for items;
//   - with a json_object response format, {"reason", "pass", "score"};
//   - otherwise plain text: when the prompt offers choices the way OpenAI
//     Evals does ("A" or "B" or "C"), a reason and then the choice alone
//     on the last line; else "Reason: ...", "Score: ..." and
//     "Verdict: PASS" (or FAIL) lines, the score an integer on the
//     prompt's scale when it asks for one "from 1 to N", else in 0..1.
func judgeReply(req llm.Request, choice int) string {
	prompt := lastUserMessage(req.Messages)
	if prompt == "" {
		var b strings.Builder
		for _, m := range req.Messages {
			b.WriteString(m.Content)
			b.WriteByte('\n')
		}
		prompt = b.String()
	}
	v := offlineJudgeVerdict(req, prompt, choice)
	if rf := req.Params.ResponseFormat; rf != nil {
		switch {
		case rf.Type == llm.FormatJSONSchema && rf.JSONSchema != nil:
			if raw, ok := schemaObject(rf.JSONSchema.Schema); ok {
				var buf bytes.Buffer
				schemaValue(&buf, raw, v, 0)
				return buf.String()
			}
		case rf.Type == llm.FormatJSONObject:
			b, _ := json.Marshal(struct {
				Reason string  `json:"reason"`
				Pass   bool    `json:"pass"`
				Score  float64 `json:"score"`
			}{v.reason, v.pass, v.score})
			return string(b)
		}
	}
	if choices := promptChoices(prompt); len(choices) > 0 {
		return v.reason + "\n" + v.pick(choices)
	}
	verdict := "FAIL"
	if v.pass {
		verdict = "PASS"
	}
	score := strconv.FormatFloat(v.score, 'f', -1, 64)
	if m := scaleRe.FindStringSubmatch(prompt); m != nil {
		if top, err := strconv.Atoi(m[1]); err == nil && top >= 2 && top <= 100 {
			score = strconv.Itoa(1 + int(math.Round(v.score*float64(top-1))))
		}
	}
	return fmt.Sprintf("Reason: %s\nScore: %s\nVerdict: %s", v.reason, score, verdict)
}

// scaleRe finds a score scale in a prompt: "from 1 to 5".
var scaleRe = regexp.MustCompile(`(?i)\bfrom 1 to (\d{1,3})\b`)

// choicesRe finds a list of choices offered the way OpenAI Evals offers
// them: "Y" or "N".
var choicesRe = regexp.MustCompile(`"[^"\n]{1,40}"(?: or "[^"\n]{1,40}")+`)

// promptChoices returns the first list of choices the prompt offers, or nil.
func promptChoices(prompt string) []string {
	m := choicesRe.FindString(prompt)
	if m == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(m, " or ") {
		out = append(out, strings.Trim(part, `"`))
	}
	return out
}

// pick chooses among options: the first for a grounded pass, the last for
// a grounded fail, a hash-chosen one otherwise.
func (v offlineVerdict) pick(options []string) string {
	switch {
	case len(options) == 0:
		return ""
	case v.grounded && v.pass:
		return options[0]
	case v.grounded:
		return options[len(options)-1]
	}
	return options[int(v.u*float64(len(options)))%len(options)]
}

func offlineJudgeVerdict(req llm.Request, prompt string, choice int) offlineVerdict {
	sum := requestHash("judge", req, choice)
	u := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
	out, okOut := markedSection(prompt, outputMarkers)
	ref, okRef := markedSection(prompt, referenceMarkers)
	if okOut && okRef {
		refWords := wordSet(ref)
		if len(refWords) > 0 {
			outWords := wordSet(out)
			shared := 0
			for w := range refWords {
				if outWords[w] {
					shared++
				}
			}
			overlap := float64(shared) / float64(len(refWords))
			v := offlineVerdict{pass: overlap > 0.5, score: math.Round(overlap*100) / 100, grounded: true, u: u}
			verb := "fails"
			if v.pass {
				verb = "passes"
			}
			v.reason = fmt.Sprintf("offline/judge stand-in, not a judgement: %d of the reference's %d distinct words appear in the output (overlap %.2f), so it %s (more than 0.5 passes).",
				shared, len(refWords), overlap, verb)
			return v
		}
	}
	return offlineVerdict{
		pass: u >= 0.5, score: math.Round(u*100) / 100, u: u,
		reason: "offline/judge stand-in, not a judgement: no output and reference found in the prompt, so this verdict is a hash of the request.",
	}
}

// markedSection returns the text after the first of markers found in
// prompt, up to the next "***" line or "[END DATA]".
func markedSection(prompt string, markers []string) (string, bool) {
	for _, m := range markers {
		i := strings.Index(prompt, m)
		if i < 0 {
			continue
		}
		rest := prompt[i+len(m):]
		end := len(rest)
		for _, stop := range []string{"\n***", "\n[END DATA]"} {
			if j := strings.Index(rest, stop); j >= 0 && j < end {
				end = j
			}
		}
		return strings.TrimSpace(rest[:end]), true
	}
	return "", false
}

// words splits s into lowercased runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func wordSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, w := range words(s) {
		set[w] = true
	}
	return set
}

// maxSchemaDepth bounds the nesting schemaValue follows.
const maxSchemaDepth = 16

// schemaValue writes a JSON value conforming to the JSON Schema raw (as far
// as the keywords described at judgeReply go), derived from v.
func schemaValue(buf *bytes.Buffer, raw json.RawMessage, v offlineVerdict, depth int) {
	var s map[string]json.RawMessage
	if depth > maxSchemaDepth || json.Unmarshal(raw, &s) != nil {
		buf.WriteString("null")
		return
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		var alts []json.RawMessage
		if json.Unmarshal(s[k], &alts) == nil && len(alts) > 0 {
			schemaValue(buf, alts[0], v, depth+1)
			return
		}
	}
	if c, ok := s["const"]; ok {
		buf.Write(c)
		return
	}
	var enum []json.RawMessage
	if json.Unmarshal(s["enum"], &enum) == nil && len(enum) > 0 {
		opts := make([]string, len(enum))
		for i, e := range enum {
			opts[i] = string(e)
		}
		buf.WriteString(v.pick(opts))
		return
	}
	typ := schemaType(s)
	switch typ {
	case "object":
		writeObject(buf, s["properties"], v, depth)
	case "array":
		var minItems int
		_ = json.Unmarshal(s["minItems"], &minItems)
		buf.WriteByte('[')
		for i := 0; i < min(minItems, 8); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			schemaValue(buf, s["items"], v, depth+1)
		}
		buf.WriteByte(']')
	case "boolean":
		buf.WriteString(strconv.FormatBool(v.pass))
	case "number", "integer":
		lo, hi := 0.0, 1.0
		if typ == "integer" {
			hi = 10
		}
		hasLo := json.Unmarshal(s["minimum"], &lo) == nil
		hasHi := json.Unmarshal(s["maximum"], &hi) == nil
		if hasLo && !hasHi {
			hi = lo + 1
			if typ == "integer" {
				hi = lo + 10
			}
		}
		if hi < lo {
			hi = lo
		}
		x := lo + v.score*(hi-lo)
		if typ == "integer" {
			x = math.Min(math.Max(math.Round(x), math.Ceil(lo)), math.Floor(hi))
			buf.WriteString(strconv.FormatFloat(x, 'f', 0, 64))
			return
		}
		x = math.Min(math.Max(math.Round(x*1e4)/1e4, lo), hi)
		buf.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case "null":
		buf.WriteString("null")
	default:
		b, _ := json.Marshal(v.reason)
		buf.Write(b)
	}
}

// schemaType returns a schema's type: its "type" (the first non-null one
// of a list), or "object" when it has properties, else "string".
func schemaType(s map[string]json.RawMessage) string {
	var one string
	if json.Unmarshal(s["type"], &one) == nil && one != "" {
		return one
	}
	var many []string
	if json.Unmarshal(s["type"], &many) == nil {
		for _, t := range many {
			if t != "null" {
				return t
			}
		}
		if len(many) > 0 {
			return "null"
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	return "string"
}

// writeObject writes an object with a value for each of the properties,
// in the order the schema lists them.
func writeObject(buf *bytes.Buffer, props json.RawMessage, v offlineVerdict, depth int) {
	buf.WriteByte('{')
	dec := json.NewDecoder(bytes.NewReader(props))
	if tok, err := dec.Token(); err == nil && tok == json.Delim('{') {
		first := true
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			key, _ := tok.(string)
			var sub json.RawMessage
			if err := dec.Decode(&sub); err != nil {
				break
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			k, _ := json.Marshal(key)
			buf.Write(k)
			buf.WriteByte(':')
			schemaValue(buf, sub, v, depth+1)
		}
	}
	buf.WriteByte('}')
}

// embedDims is the dimension of offline/embed's vectors.
const embedDims = 256

// embedText is offline/embed's vector for text: a hashed bag of words.
// Each lowercased run of letters and digits adds ±1 to one of 256
// dimensions chosen, with the sign, by its FNV-1a hash (feature hashing);
// the vector is then scaled to unit length (a text with no words gets the
// zero vector). Texts sharing words get a positive cosine similarity, so
// meaning-based judges can be exercised offline; it knows nothing of
// synonyms, word order or meaning, and hash collisions add noise. It is a
// stand-in, not a language model.
func embedText(text string) []float64 {
	v := make([]float64, embedDims)
	for _, w := range words(text) {
		h := fnv.New64a()
		h.Write([]byte(w))
		x := h.Sum64()
		i := int(x % embedDims)
		if (x>>32)&1 == 1 {
			v[i]--
		} else {
			v[i]++
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for i := range v {
			v[i] /= norm
		}
	}
	return v
}

// schemaObject returns the JSON encoding of a response format's schema when
// it is a JSON object.
func schemaObject(schema any) (json.RawMessage, bool) {
	if schema == nil {
		return nil, false
	}
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, false
	}
	return raw, true
}
