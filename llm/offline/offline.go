package offline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/llm"
)

// Type is the provider type, and the name under which gavel registers
// Provider: model names "offline/calc" and so on.
const Type = "offline"

// Models are the offline models, sorted.
func Models() []string { return []string{"calc", "echo", "embed", "judge", "tools"} }

// embedModel is the offline embedding model; the others are chat models.
const embedModel = "embed"

// Provider is the offline provider: an llm.Provider that is a stand-in for
// a real model so that gavel's quickstart, its examples and its tests run
// with no API key and no network. It does not understand language: it
// applies a fixed, deterministic rule to the last user message, and the
// same request always gets the same reply. Its models are:
//
//   - echo: replies with the content of the last user message.
//   - calc: finds the arithmetic expressions in the last user message
//     (integers and decimals, + - * / × ÷ and parentheses, with at least one
//     operator between two numbers), evaluates the last one exactly and
//     replies "Computing <expr>.\nThe answer is <n>.\n#### <n>". With no
//     expression it makes a deliberately naive guess, the sum of all the
//     numbers it sees. With a temperature above 0 it makes a deterministic
//     mistake with probability min(temperature, 1)/2: its final answer is
//     off by a small nonzero integer. Whether a request gets a mistake is
//     decided by a hash of the model, the messages and the seed parameter,
//     so the set of mistaken requests only grows as the temperature rises.
//   - judge: a stand-in for a judge model, so that LLM judges run with no
//     key (see judgeReply). It does not judge anything: its verdict
//     comes from the word overlap of the output and the reference it finds
//     in the prompt, or else from a hash of the request.
//   - tools: calls the tools named in the last user message, with the
//     arguments written there, turn by turn, then answers with their
//     results (see toolsReply), so that agents run with no key.
//   - embed: an embedding model (Embed only): a hashed bag of words (see
//     embedText), which places texts sharing words close together and
//     knows nothing of meaning.
//
// With Params.N > 1 a chat model answers with N choices; choice 0 is the
// reply to the same request with N unset, and the others are computed as
// if the seed differed (only calc at a temperature above 0 and judge's
// hashed verdicts can differ between choices).
//
// Token usage is estimated (see llm.EstimateUsage) and the calls are free.
// A request with Params.Stream gets the same reply, which arrives whole
// and at once: the Router records its time to first token as 0, as it
// records the latency of these models as 0.
type Provider struct{}

var _ llm.Provider = Provider{}

// CheckModel reports whether model is one of Models.
func (Provider) CheckModel(model string) error {
	for _, m := range Models() {
		if m == model {
			return nil
		}
	}
	return fmt.Errorf("unknown offline model %q (offline models: %s)", model, strings.Join(Models(), ", "))
}

// Chat answers req with model's rule.
func (p Provider) Chat(ctx context.Context, model string, req llm.Request) (llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return llm.Response{}, err
	}
	if err := p.CheckModel(model); err != nil {
		return llm.Response{}, err
	}
	if model == embedModel {
		return llm.Response{}, fmt.Errorf("offline/%s is an embedding model: it answers embeddings requests, not chat", model)
	}
	if model == toolsModel {
		return toolsReply(req), nil
	}
	n := 1
	if req.Params.N != nil {
		if *req.Params.N < 1 {
			return llm.Response{}, fmt.Errorf("n must be at least 1, got %d", *req.Params.N)
		}
		n = *req.Params.N
	}
	choices := make([]string, n)
	for i := range choices {
		text := lastUserMessage(req.Messages)
		switch model {
		case "echo":
			choices[i] = text
		case "calc":
			choices[i] = calcReply(text, offlineMistake(model, req, i))
		case "judge":
			choices[i] = judgeReply(req, i)
		}
	}
	resp := llm.Response{
		Content:      choices[0],
		FinishReason: "stop",
		Usage:        llm.EstimateUsage(req.Messages, strings.Join(choices, "")),
		Estimated:    true,
	}
	if n > 1 {
		resp.Choices = choices
	}
	return resp, nil
}

// Embed embeds req.Input with the embed model.
func (p Provider) Embed(ctx context.Context, model string, req llm.EmbedRequest) (llm.EmbedResponse, error) {
	if err := ctx.Err(); err != nil {
		return llm.EmbedResponse{}, err
	}
	if err := p.CheckModel(model); err != nil {
		return llm.EmbedResponse{}, err
	}
	if model != embedModel {
		return llm.EmbedResponse{}, fmt.Errorf("offline/%s is a chat model; the offline embedding model is offline/%s", model, embedModel)
	}
	resp := llm.EmbedResponse{Vectors: make([][]float64, len(req.Input)), Usage: llm.EstimateEmbedUsage(req.Input), Estimated: true}
	for i, s := range req.Input {
		resp.Vectors[i] = embedText(s)
	}
	return resp, nil
}

// lastUserMessage returns the content of the last message whose role is
// "user", or "" when there is none.
func lastUserMessage(msgs []llm.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

// offlineMistake returns the amount by which choice number choice of the
// reply to req is wrong: 0 for no mistake, else a nonzero integer in
// [-3, 3]. It is a pure function of the model, the messages, the seed, the
// temperature and the choice.
func offlineMistake(model string, req llm.Request, choice int) int64 {
	if req.Params.Temperature == nil || !(*req.Params.Temperature > 0) {
		return 0
	}
	prob := min(*req.Params.Temperature, 1) / 2
	sum := requestHash(model, req, choice)
	u := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53) // uniform in [0, 1)
	if u >= prob {
		return 0
	}
	off := int64(sum[8]%3) + 1
	if sum[9]&1 == 1 {
		off = -off
	}
	return off
}

// requestHash is a SHA-256 of the model, the messages, the seed and, for
// choices after the first, the choice number.
func requestHash(model string, req llm.Request, choice int) []byte {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(model)
	for _, m := range req.Messages {
		field(m.Role)
		field(m.Content)
	}
	if req.Params.Seed != nil {
		field("seed=" + strconv.Itoa(*req.Params.Seed))
	} else {
		field("no seed")
	}
	if choice > 0 {
		field("choice=" + strconv.Itoa(choice))
	}
	return h.Sum(nil)
}

// calcReply is offline/calc's reply to text; mistake is added to the final
// answer.
func calcReply(text string, mistake int64) string {
	toks := lexArith(text)
	if e, ok := lastExpression(text, toks); ok {
		if e.divByZero {
			return fmt.Sprintf("Computing %s.\nI cannot divide by zero.", e.text)
		}
		ans := formatRat(addInt(e.value, mistake))
		return fmt.Sprintf("Computing %s.\nThe answer is %s.\n#### %s", e.text, ans, ans)
	}
	var nums []string
	sum := new(big.Rat)
	for _, t := range toks {
		if t.kind == tokNum {
			nums = append(nums, formatRat(t.num))
			sum.Add(sum, t.num)
		}
	}
	if len(nums) == 0 {
		return "I cannot find any numbers.\n#### 0"
	}
	ans := formatRat(addInt(sum, mistake))
	return fmt.Sprintf("I add up the numbers I see: %s = %s.\n#### %s", strings.Join(nums, " + "), ans, ans)
}

func addInt(r *big.Rat, n int64) *big.Rat {
	return new(big.Rat).Add(r, new(big.Rat).SetInt64(n))
}

// formatRat formats r as an integer when it is integral, otherwise as a
// decimal rounded to 4 places with trailing zeros trimmed.
func formatRat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	s := r.FloatString(4)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// Arithmetic tokens.
type tokKind int

const (
	tokNum tokKind = iota + 1
	tokOp          // one of + - * /
	tokLParen
	tokRParen
	tokBreak // any other text: expressions never span it
)

type token struct {
	kind       tokKind
	op         byte     // for tokOp
	num        *big.Rat // for tokNum
	start, end int      // byte offsets in the text
}

// lexArith splits text into arithmetic tokens. Numbers are integers or
// decimals, optionally with thousands separators ("1,250.5"); × and ÷ are
// read as * and /, the minus sign − as -. Whitespace is skipped; any other
// text becomes a single tokBreak.
func lexArith(text string) []token {
	var toks []token
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isDigit(c):
			end, num := lexNumber(text, i)
			toks = append(toks, token{kind: tokNum, num: num, start: i, end: end})
			i = end
		case c == '+' || c == '-' || c == '*' || c == '/':
			toks = append(toks, token{kind: tokOp, op: c, start: i, end: i + 1})
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, start: i, end: i + 1})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, start: i, end: i + 1})
			i++
		default:
			r, size := utf8.DecodeRuneInString(text[i:])
			switch r {
			case '×':
				toks = append(toks, token{kind: tokOp, op: '*', start: i, end: i + size})
			case '÷':
				toks = append(toks, token{kind: tokOp, op: '/', start: i, end: i + size})
			case '−':
				toks = append(toks, token{kind: tokOp, op: '-', start: i, end: i + size})
			default:
				if n := len(toks); n == 0 || toks[n-1].kind != tokBreak {
					toks = append(toks, token{kind: tokBreak, start: i, end: i + size})
				}
			}
			i += size
		}
	}
	return toks
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lexNumber reads the number starting at text[i], a digit. It returns the
// end offset and the value.
func lexNumber(text string, i int) (int, *big.Rat) {
	digits := func(j int) int {
		for j < len(text) && isDigit(text[j]) {
			j++
		}
		return j
	}
	end := digits(i)
	var b strings.Builder
	b.WriteString(text[i:end])
	// Thousands separators: a first group of 1 to 3 digits, then groups of
	// exactly 3 digits after commas.
	if end-i <= 3 {
		for end+4 <= len(text) && text[end] == ',' && digits(end+1) == end+4 {
			b.WriteString(text[end+1 : end+4])
			end += 4
		}
	}
	if end+1 < len(text) && text[end] == '.' && isDigit(text[end+1]) {
		fracEnd := digits(end + 1)
		b.WriteString(text[end:fracEnd])
		end = fracEnd
	}
	num, ok := new(big.Rat).SetString(b.String())
	if !ok { // cannot happen: b holds digits and at most one dot
		num = new(big.Rat)
	}
	return end, num
}

// expression is an arithmetic expression found in a text.
type expression struct {
	text      string // as written, whitespace collapsed
	value     *big.Rat
	divByZero bool
}

// lastExpression returns the last arithmetic expression in toks: a maximal
// run of tokens that parses as an expression with at least one binary
// operator.
func lastExpression(text string, toks []token) (expression, bool) {
	var last expression
	found := false
	for i := 0; i < len(toks); {
		p := arithParser{toks: toks, pos: i}
		v, ok := p.expr()
		if !ok || p.binOps == 0 {
			i++
			continue
		}
		last = expression{
			text:      strings.Join(strings.Fields(text[toks[i].start:toks[p.pos-1].end]), " "),
			value:     v,
			divByZero: p.divByZero,
		}
		found = true
		i = p.pos
	}
	return last, found
}

// arithParser is a recursive-descent parser over tokens that reads the
// longest expression it can from pos:
//
//	expr   = term { ("+" | "-") term }
//	term   = factor { ("*" | "/") factor }
//	factor = ("+" | "-") factor | number | "(" expr ")"
type arithParser struct {
	toks      []token
	pos       int
	depth     int // nesting of factors, capped at maxArithDepth
	binOps    int
	divByZero bool
}

// maxArithDepth caps the nesting of parentheses and unary signs, which
// bounds the work spent on hostile text such as a long run of "(".
const maxArithDepth = 32

func (p *arithParser) peek() (token, bool) {
	if p.pos >= len(p.toks) {
		return token{}, false
	}
	return p.toks[p.pos], true
}

func (p *arithParser) expr() (*big.Rat, bool) {
	return p.binary(p.term, '+', '-')
}

func (p *arithParser) term() (*big.Rat, bool) {
	return p.binary(p.factor, '*', '/')
}

// binary parses operand { (op1 | op2) operand }, stopping before an
// operator that is not followed by a valid operand.
func (p *arithParser) binary(operand func() (*big.Rat, bool), op1, op2 byte) (*big.Rat, bool) {
	acc, ok := operand()
	if !ok {
		return nil, false
	}
	for {
		t, ok := p.peek()
		if !ok || t.kind != tokOp || (t.op != op1 && t.op != op2) {
			return acc, true
		}
		save, saveOps, saveDiv := p.pos, p.binOps, p.divByZero
		p.pos++
		rhs, ok := operand()
		if !ok {
			p.pos, p.binOps, p.divByZero = save, saveOps, saveDiv
			return acc, true
		}
		p.binOps++
		switch t.op {
		case '+':
			acc = new(big.Rat).Add(acc, rhs)
		case '-':
			acc = new(big.Rat).Sub(acc, rhs)
		case '*':
			acc = new(big.Rat).Mul(acc, rhs)
		case '/':
			if rhs.Sign() == 0 {
				p.divByZero = true
				acc = new(big.Rat)
			} else {
				acc = new(big.Rat).Quo(acc, rhs)
			}
		}
	}
}

func (p *arithParser) factor() (*big.Rat, bool) {
	t, ok := p.peek()
	if !ok || p.depth >= maxArithDepth {
		return nil, false
	}
	p.depth++
	defer func() { p.depth-- }()
	switch {
	case t.kind == tokNum:
		p.pos++
		return t.num, true
	case t.kind == tokOp && (t.op == '+' || t.op == '-'):
		save := p.pos
		p.pos++
		v, ok := p.factor()
		if !ok {
			p.pos = save
			return nil, false
		}
		if t.op == '-' {
			v = new(big.Rat).Neg(v)
		}
		return v, true
	case t.kind == tokLParen:
		save, saveOps, saveDiv := p.pos, p.binOps, p.divByZero
		p.pos++
		v, ok := p.expr()
		if ok {
			if c, ok2 := p.peek(); ok2 && c.kind == tokRParen {
				p.pos++
				return v, true
			}
		}
		p.pos, p.binOps, p.divByZero = save, saveOps, saveDiv
		return nil, false
	}
	return nil, false
}
