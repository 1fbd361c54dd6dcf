package llmtest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm/llmtest"
)

const chatBody = `{"model":"tiny","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 9 * 2?"}]}`

// post sends one chat request with a fresh connection and returns the
// status, headers, body and the error of reading it.
func post(t *testing.T, s *llmtest.FaultServer, timeout time.Duration) (*http.Response, []byte, error) {
	t.Helper()
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(chatBody))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestFaultsOnTheWire(t *testing.T) {
	script := []llmtest.Fault{"", llmtest.Fault500, llmtest.Fault429, llmtest.FaultMalformed, llmtest.FaultTruncated, llmtest.FaultHang, llmtest.FaultReset, llmtest.OK}
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: script, RetryAfter: 1500 * time.Millisecond, RetryAfterMS: true})
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/v1") {
		t.Errorf("URL = %s", s.URL())
	}

	// 0: a correct chat completion with real usage.
	resp, body, err := post(t, s, 5*time.Second)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ok: %v %v", resp, err)
	}
	var cc struct {
		Model   string `json:"model"`
		Choices []struct {
			Message      struct{ Role, Content string } `json:"message"`
			FinishReason string                         `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &cc); err != nil {
		t.Fatal(err)
	}
	// ceil(9/4)+4 + ceil(14/4)+4 = 7+8 = 15; "echo: What is 9 * 2?" is 20 bytes: 5.
	if cc.Model != "tiny" || len(cc.Choices) != 1 || cc.Choices[0].Message.Content != "echo: What is 9 * 2?" || cc.Choices[0].Message.Role != "assistant" ||
		cc.Choices[0].FinishReason != "stop" || cc.Usage.PromptTokens != 15 || cc.Usage.CompletionTokens != 5 || cc.Usage.TotalTokens != 20 {
		t.Errorf("completion = %+v", cc)
	}

	// 1: 500 with an OpenAI error body.
	resp, body, _ = post(t, s, 5*time.Second)
	if resp.StatusCode != 500 || !strings.Contains(string(body), `"type":"server_error"`) {
		t.Errorf("500: %d %s", resp.StatusCode, body)
	}
	// 2: 429 with Retry-After rounded up to seconds, and retry-after-ms.
	resp, body, _ = post(t, s, 5*time.Second)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || resp.Header.Get("Retry-After-Ms") != "1500" || !strings.Contains(string(body), "rate_limit_exceeded") {
		t.Errorf("429: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// 3: malformed JSON, complete body.
	resp, body, err = post(t, s, 5*time.Second)
	if err != nil || resp.StatusCode != 200 || json.Valid(body) {
		t.Errorf("malformed: %v %v %s", resp, err, body)
	}
	// 4: truncated: the body ends before its Content-Length.
	resp, _, err = post(t, s, 5*time.Second)
	if resp == nil || resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: %v, read error %v", resp, err)
	}
	// 5: hang until the client gives up.
	start := time.Now()
	_, _, err = post(t, s, 100*time.Millisecond)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("hang: err %v after %v", err, time.Since(start))
	}
	// 6: reset: no response at all.
	if resp, _, err = post(t, s, 5*time.Second); err == nil {
		t.Errorf("reset: got a response %v", resp)
	}
	// 7: OK again.
	if resp, _, err = post(t, s, 5*time.Second); err != nil || resp.StatusCode != 200 {
		t.Errorf("ok after the script: %v %v", resp, err)
	}

	if n := s.Requests(); n != 8 {
		t.Errorf("requests = %d, want 8", n)
	}
	want := map[llmtest.Fault]int64{llmtest.OK: 2, llmtest.Fault500: 1, llmtest.Fault429: 1, llmtest.FaultMalformed: 1, llmtest.FaultTruncated: 1, llmtest.FaultHang: 1, llmtest.FaultReset: 1}
	if got := s.Faults(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("faults = %v, want %v", got, want)
	}
}

// The same seed draws the same faults; the frequencies follow the
// probabilities.
func TestFaultDrawsSeeded(t *testing.T) {
	draw := func(seed uint64) map[llmtest.Fault]int64 {
		s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Seed: seed, Probability: map[llmtest.Fault]float64{llmtest.Fault500: 0.3, llmtest.Fault429: 0.2}})
		for range 200 {
			post(t, s, 5*time.Second)
		}
		return s.Faults()
	}
	a, b := draw(11), draw(11)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different faults: %v, %v", a, b)
	}
	if a[llmtest.Fault500] < 35 || a[llmtest.Fault500] > 85 || a[llmtest.Fault429] < 20 || a[llmtest.Fault429] > 60 {
		t.Errorf("faults %v far from 30%% and 20%% of 200", a)
	}
}

func TestFaultServerCountsInFlightAndRejectsOtherPaths(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Latency: 30 * time.Millisecond, Reply: func(r llmtest.ChatRequest) string { return strings.ToUpper(r.LastUser()) }})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, body, err := post(t, s, 5*time.Second)
			if err != nil || !strings.Contains(string(body), "WHAT IS 9 * 2?") {
				t.Errorf("%v %s", err, body)
			}
		})
	}
	wg.Wait()
	if m := s.MaxInFlight(); m < 2 || m > 4 {
		t.Errorf("max in flight %d, want 2..4", m)
	}
	resp, err := http.Get(s.URL() + "/models")
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /models: %v %v", resp, err)
	}
	resp.Body.Close()
}

// A hang ends when the server closes, so a test never waits MaxHang.
func TestHangEndsOnClose(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.FaultHang}, MaxHang: time.Minute})
	done := make(chan error, 1)
	go func() {
		_, _, err := post(t, s, time.Minute)
		done <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); s.Requests() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	s.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close took %v", took)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the hung request did not end when the server closed")
	}
}

// postStream sends one streamed chat request and returns the response and
// its body, read until it ends or breaks.
func postStream(t *testing.T, s *llmtest.FaultServer, includeUsage bool) (*http.Response, string, error) {
	t.Helper()
	body := `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"What is 9 * 2?"}]}`
	if includeUsage {
		body = `{"model":"tiny","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is 9 * 2?"}]}`
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// streamChunk is the part of a chat.completion.chunk the tests read.
type streamChunk struct {
	Object  string `json:"object"`
	Choices []struct {
		Index        int `json:"index"`
		Delta        struct{ Role, Content string }
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// events splits a body of server-sent events into their data.
func events(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, ev := range strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok {
			t.Fatalf("event %q is not a data line", ev)
		}
		out = append(out, data)
	}
	return out
}

func TestStreamOnTheWire(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{"", "", llmtest.FaultStreamCut, llmtest.Fault500}})
	for _, usage := range []bool{true, false} {
		resp, body, err := postStream(t, s, usage)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %v %v", resp, err)
		}
		evs := events(t, body)
		if evs[len(evs)-1] != "[DONE]" {
			t.Errorf("last event %q, want [DONE]", evs[len(evs)-1])
		}
		var content strings.Builder
		var finish []string
		sawUsage := false
		for i, ev := range evs[:len(evs)-1] {
			var c streamChunk
			if err := json.Unmarshal([]byte(ev), &c); err != nil || c.Object != "chat.completion.chunk" {
				t.Fatalf("event %d %q: %v", i, ev, err)
			}
			if i == 0 && (len(c.Choices) != 1 || c.Choices[0].Delta.Role != "assistant") {
				t.Errorf("first chunk %q: want the role", ev)
			}
			for _, ch := range c.Choices {
				content.WriteString(ch.Delta.Content)
				if ch.FinishReason != nil {
					finish = append(finish, *ch.FinishReason)
				}
			}
			if c.Usage != nil {
				sawUsage = true
				if len(c.Choices) != 0 || c.Usage.PromptTokens != 8 || c.Usage.CompletionTokens != 5 || i != len(evs)-2 {
					t.Errorf("usage chunk %d %q", i, ev)
				}
			}
		}
		if content.String() != "echo: What is 9 * 2?" || fmt.Sprint(finish) != "[stop]" || sawUsage != usage {
			t.Errorf("include_usage %v: content %q finish %v usage %v", usage, content.String(), finish, sawUsage)
		}
	}
	// A stream cut after its first content chunk: the body breaks.
	_, body, err := postStream(t, s, true)
	if !errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(body, "[DONE]") || !strings.Contains(body, `"content":"echo:"`) {
		t.Errorf("cut stream: %v %q", err, body)
	}
	// A 500 before any chunk is a plain error response.
	resp, body, _ := postStream(t, s, true)
	if resp.StatusCode != 500 || !strings.Contains(body, "server_error") {
		t.Errorf("500: %d %s", resp.StatusCode, body)
	}
}
