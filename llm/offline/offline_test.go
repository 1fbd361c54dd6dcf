package offline_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/llm"
)

func ask(t testing.TB, r *llm.Router, model, text string, params llm.Params) llm.Response {
	t.Helper()
	resp, err := r.Chat(context.Background(), llm.Request{
		Model:    model,
		Messages: []llm.Message{{Role: "user", Content: text}},
		Params:   params,
	})
	if err != nil {
		t.Fatalf("%s(%q): %v", model, text, err)
	}
	return resp
}

func computing(expr, answer string) string {
	return fmt.Sprintf("Computing %s.\nThe answer is %s.\n#### %s", expr, answer, answer)
}

func TestOfflineCalc(t *testing.T) {
	cases := []struct{ in, want string }{
		{"What is (16 - 3 - 4) * 2?", computing("(16 - 3 - 4) * 2", "18")},
		{"2 + 3 * 4", computing("2 + 3 * 4", "14")},
		{"Now (2 + 3) * 4, please", computing("(2 + 3) * 4", "20")},
		{"10 - 4 - 3", computing("10 - 4 - 3", "3")},
		{"2 * 3 / 4 * 8", computing("2 * 3 / 4 * 8", "12")},
		{"1.5 + 2.25", computing("1.5 + 2.25", "3.75")},
		{"0.1 + 0.2", computing("0.1 + 0.2", "0.3")},
		{"10 / 4", computing("10 / 4", "2.5")},
		{"1 / 3", computing("1 / 3", "0.3333")},
		{"2/3", computing("2/3", "0.6667")},
		{"-2 / 3", computing("-2 / 3", "-0.6667")},
		{"1 / 100000", computing("1 / 100000", "0")},
		{"6 × 7", computing("6 × 7", "42")},
		{"84 ÷ 4 − 1", computing("84 ÷ 4 − 1", "20")},
		{"12 - 20", computing("12 - 20", "-8")},
		{"3 - -2", computing("3 - -2", "5")},
		{"1,200 + 300 dollars", computing("1,200 + 300", "1500")},
		{"First 1 + 1, then 10 - 4.", computing("10 - 4", "6")},
		{"((2 + 3) * 4", computing("(2 + 3) * 4", "20")},
		{"(1 +\n   2) * 3", computing("(1 + 2) * 3", "9")},
		{"5 + (", "I add up the numbers I see: 5 = 5.\n#### 5"}, // no complete expression
		{"5 / (3 - 3)", "Computing 5 / (3 - 3).\nI cannot divide by zero."},
		{"Natalia sold 16 clips, then 3 and 4 more.", "I add up the numbers I see: 16 + 3 + 4 = 23.\n#### 23"},
		{"It costs $1,250.50 and 2 more", "I add up the numbers I see: 1250.5 + 2 = 1252.5.\n#### 1252.5"},
		{"-5 degrees", "I add up the numbers I see: 5 = 5.\n#### 5"},
		{"Hello there!", "I cannot find any numbers.\n#### 0"},
		{"", "I cannot find any numbers.\n#### 0"},
	}
	r := offlineRouter(t)
	for _, tc := range cases {
		got := ask(t, r, "offline/calc", tc.in, llm.Params{})
		if got.Content != tc.want {
			t.Errorf("calc(%q) = %q, want %q", tc.in, got.Content, tc.want)
		}
	}
}

func TestOfflineCalcUsesLastUserMessage(t *testing.T) {
	r := offlineRouter(t)
	resp, err := r.Chat(context.Background(), llm.Request{Model: "offline/calc", Messages: []llm.Message{
		{Role: "system", Content: "1 + 1"},
		{Role: "user", Content: "2 * 3"},
		{Role: "user", Content: "Now 4 * 5 and then 7 - 2"},
		{Role: "assistant", Content: "9 + 9"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := computing("7 - 2", "5"); resp.Content != want {
		t.Errorf("got %q, want %q", resp.Content, want)
	}
}

func TestOfflineCalcHostileInput(t *testing.T) {
	r := offlineRouter(t)
	text := strings.Repeat("(", 200000) + " 1 + 1 " + strings.Repeat("- ", 200000) + strings.Repeat(")", 1000)
	// How long this takes is measured by BenchmarkOfflineCalcHostileInput,
	// not asserted here.
	got := ask(t, r, "offline/calc", text, llm.Params{})
	if !strings.HasSuffix(got.Content, "#### 2") {
		t.Errorf("got %q", got.Content[max(0, len(got.Content)-100):])
	}
}

func TestOfflineEcho(t *testing.T) {
	r := offlineRouter(t)
	resp, err := r.Chat(context.Background(), llm.Request{Model: "offline/echo", Messages: []llm.Message{
		{Role: "system", Content: "be nice"},
		{Role: "user", Content: "hello, world ✓"},
		{Role: "assistant", Content: "something"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "hello, world ✓" || resp.FinishReason != "stop" {
		t.Errorf("echo = %q (%s)", resp.Content, resp.FinishReason)
	}
	// "be nice" 7 bytes, "hello, world ✓" 16 bytes, "something" 9 bytes:
	// (2+4) + (4+4) + (3+4) = 21 prompt tokens; 16 bytes out = 4 tokens.
	if !resp.Estimated || resp.Usage != (llm.Usage{PromptTokens: 21, CompletionTokens: 4}) {
		t.Errorf("usage = %+v estimated=%v", resp.Usage, resp.Estimated)
	}
	if resp.CostUSD == nil || *resp.CostUSD != 0 {
		t.Errorf("cost = %v, want a known zero", resp.CostUSD)
	}
}

func TestOfflineDeterministic(t *testing.T) {
	r := offlineRouter(t)
	for _, temp := range []float64{0, 0.8, 1} {
		p := llm.Params{Temperature: ptr(temp), Seed: ptr(42)}
		for i := range 20 {
			q := fmt.Sprintf("Sam has %d apples and eats 3. Then (%d - 3) * 2?", i, i)
			a := ask(t, r, "offline/calc", q, p)
			b := ask(t, r, "offline/calc", q, p)
			if a.Content != b.Content || a.Usage != b.Usage {
				t.Fatalf("temperature %v: two replies to %q differ: %q vs %q", temp, q, a.Content, b.Content)
			}
		}
	}
}

var finalAnswer = regexp.MustCompile(`#### (-?\d+)$`)

// mistakes asks calc n sums at the given params and returns, per prompt,
// how far the answer was off.
func mistakes(t *testing.T, r *llm.Router, n int, p llm.Params) []int {
	t.Helper()
	offs := make([]int, n)
	for i := range n {
		a, b := 17+i*7%90, 3+i*13%50
		got := ask(t, r, "offline/calc", fmt.Sprintf("What is %d + %d?", a, b), p).Content
		m := finalAnswer.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("no final answer in %q", got)
		}
		v, _ := strconv.Atoi(m[1])
		offs[i] = v - (a + b)
		if !strings.Contains(got, fmt.Sprintf("The answer is %d.", v)) {
			t.Errorf("reply %q states another answer than its final one", got)
		}
	}
	return offs
}

func TestOfflineMistakeRate(t *testing.T) {
	r := offlineRouter(t)
	const n = 200
	hot := mistakes(t, r, n, llm.Params{Temperature: ptr(0.8)})
	wrong := 0
	for _, off := range hot {
		if off != 0 {
			wrong++
			if off < -3 || off > 3 {
				t.Errorf("mistake of %d, want a small one", off)
			}
		}
	}
	// Expected rate 0.8/2 = 0.4; the band is about ±3 standard deviations.
	if rate := float64(wrong) / n; rate < 0.2 || rate > 0.6 {
		t.Errorf("mistake rate at temperature 0.8 = %.2f, want about 0.4", rate)
	}

	// Mistakes only grow with temperature: any mistake at 0.4 is also made,
	// identically, at 0.8.
	warm := mistakes(t, r, n, llm.Params{Temperature: ptr(0.4)})
	warmWrong := 0
	for i, off := range warm {
		if off != 0 {
			warmWrong++
			if hot[i] != off {
				t.Errorf("prompt %d: off by %d at 0.4 but %d at 0.8", i, off, hot[i])
			}
		}
	}
	if warmWrong == 0 || warmWrong >= wrong {
		t.Errorf("%d mistakes at 0.4 vs %d at 0.8, want fewer but some", warmWrong, wrong)
	}

	// Another seed makes other mistakes.
	seeded := mistakes(t, r, n, llm.Params{Temperature: ptr(0.8), Seed: ptr(1)})
	differ := 0
	for i := range seeded {
		if (seeded[i] != 0) != (hot[i] != 0) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("the seed does not change which prompts get a mistake")
	}

	for _, temp := range []*float64{nil, ptr(0.0), ptr(-1.0)} {
		for i, off := range mistakes(t, r, n, llm.Params{Temperature: temp}) {
			if off != 0 {
				t.Fatalf("temperature %v: prompt %d off by %d, want no mistakes", temp, i, off)
			}
		}
	}
}

func TestOfflineCalcNaiveSumMistakes(t *testing.T) {
	// The naive guess is also subject to mistakes at high temperature.
	r := offlineRouter(t)
	wrong := 0
	for i := range 100 {
		got := ask(t, r, "offline/calc", fmt.Sprintf("I have %d cats and 2 dogs.", i), llm.Params{Temperature: ptr(1.0)}).Content
		if !strings.HasSuffix(got, fmt.Sprintf("#### %d", i+2)) {
			wrong++
		}
	}
	if wrong < 25 || wrong > 75 {
		t.Errorf("%d/100 naive sums wrong at temperature 1, want about 50", wrong)
	}
}

func TestOfflineRespectsCancelledContext(t *testing.T) {
	r := offlineRouter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Chat(ctx, llm.Request{Model: "offline/echo", Messages: []llm.Message{{Role: "user", Content: "x"}}})
	if err == nil {
		t.Error("no error with a cancelled context")
	}
}

func TestEstimateUsage(t *testing.T) {
	u := llm.EstimateUsage([]llm.Message{{Content: ""}, {Content: "abcd"}, {Content: "abcde"}}, "abcdefghi")
	// 0+4, 1+4, 2+4 = 15; ceil(9/4) = 3.
	if u != (llm.Usage{PromptTokens: 15, CompletionTokens: 3}) {
		t.Errorf("EstimateUsage = %+v", u)
	}
}

func BenchmarkOfflineCalcHostileInput(b *testing.B) {
	r := offlineRouter(b)
	text := strings.Repeat("(", 200000) + " 1 + 1 " + strings.Repeat("- ", 200000) + strings.Repeat(")", 1000)
	for b.Loop() {
		ask(b, r, "offline/calc", text, llm.Params{})
	}
}
