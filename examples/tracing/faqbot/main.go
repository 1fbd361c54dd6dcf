// Command faqbot is a small question-answering service instrumented with
// gavel's tracing SDK (package observe) and its traced OpenAI client. Each
// question is one trace: an "answer" chain span holding a "search"
// retriever span and the model call, an llm span with the GenAI
// attributes (model, tokens, cost, messages).
//
// Ask questions (one per argument, or one per line of standard input):
//
//	go run . -otlp http://127.0.0.1:4318/v1/traces "When do you open?"
//
// Serve them over HTTP (POST /answer {"question": "..."}), continuing the
// caller's trace when the request carries a W3C traceparent header (a
// gavel chain's http step sends one):
//
//	go run . -serve 127.0.0.1:8088 -otlp http://127.0.0.1:4318/v1/traces
//
// The model is any OpenAI-compatible server (-base-url or
// OPENAI_BASE_URL, with OPENAI_API_KEY); without one, faqbot starts a
// stand-in on 127.0.0.1 that answers from the retrieved passage, so the
// example runs with no key and no network.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/propagation"

	"github.com/gavel-eval/gavel/observe"
)

// passages is the bot's knowledge.
var passages = []string{
	"Opening hours: we open at 9:00 and close at 17:00, Monday to Friday.",
	"Returns: items can be returned within 30 days with the receipt.",
	"Shipping: orders over 50 EUR ship free; others cost 4.90 EUR.",
	"Contact: write to help@example.com; we answer within one working day.",
}

// bot answers questions with one retrieval and one model call.
type bot struct {
	client *observe.OpenAI
	model  string
}

func (b *bot) answer(ctx context.Context, question string) (string, error) {
	return observe.Do(ctx, "answer", observe.Chain, func(ctx context.Context) (string, error) {
		passage, err := observe.Do(ctx, "search", observe.Retriever, func(context.Context) (string, error) {
			return search(question)
		}, observe.Input(question))
		if err != nil {
			return "", err
		}
		resp, err := b.client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
			Model:       b.model,
			Temperature: 0,
			Messages: []openai.ChatCompletionMessage{
				{Role: openai.ChatMessageRoleSystem, Content: "Answer from this passage only: " + passage},
				{Role: openai.ChatMessageRoleUser, Content: question},
			},
		})
		if err != nil {
			return "", err
		}
		if len(resp.Choices) == 0 {
			return "", errors.New("the model returned no choice")
		}
		return resp.Choices[0].Message.Content, nil
	}, observe.Input(question))
}

// search returns the passage sharing the most words with the question.
func search(question string) (string, error) {
	words := strings.Fields(strings.ToLower(strings.Map(func(r rune) rune {
		if r == '?' || r == '.' || r == ',' || r == '!' {
			return ' '
		}
		return r
	}, question)))
	best, score := "", 0
	for _, p := range passages {
		n := 0
		for _, w := range words {
			if len(w) > 3 && strings.Contains(strings.ToLower(p), w) {
				n++
			}
		}
		if n > score {
			best, score = p, n
		}
	}
	if best == "" {
		return "", fmt.Errorf("no passage matches %q", question)
	}
	return best, nil
}

func main() {
	if err := run(); err != nil {
		log.SetFlags(0)
		log.Fatal("faqbot: ", err)
	}
}

func run() error {
	otlp := flag.String("otlp", "", "send spans to this OTLP/HTTP traces `url` (gavel collect: http://127.0.0.1:4318/v1/traces)")
	dir := flag.String("dir", "", "also write spans to `dir`/traces.parquet")
	baseURL := flag.String("base-url", os.Getenv("OPENAI_BASE_URL"), "OpenAI-compatible API `url` (default: a local stand-in)")
	model := flag.String("model", "gpt-4o-mini", "model `name`")
	user := flag.String("user", "", "user `id` recorded on the spans")
	session := flag.String("session", "", "session `id` recorded on the spans")
	serve := flag.String("serve", "", "serve POST /answer on this `addr` instead of answering arguments")
	flag.Parse()
	if *otlp == "" && *dir == "" {
		return errors.New("give -otlp URL, -dir DIR or both: where the spans go")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tr, err := observe.Start(ctx, observe.Config{Service: "faqbot", Dir: *dir, OTLPEndpoint: *otlp})
	if err != nil {
		return err
	}
	// Shutdown flushes the spans, even after Ctrl-C.
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Shutdown(shut); err != nil {
			log.Print("faqbot: flushing spans: ", err)
		}
	}()

	cfg := openai.DefaultConfig(os.Getenv("OPENAI_API_KEY"))
	if *baseURL == "" {
		url, closeStandIn, err := startStandIn()
		if err != nil {
			return err
		}
		defer closeStandIn()
		*baseURL = url
	}
	cfg.BaseURL = *baseURL
	b := &bot{client: observe.NewOpenAI(openai.NewClientWithConfig(cfg)), model: *model}

	base := tr.Context(ctx)
	if *user != "" {
		base = observe.WithUser(base, *user)
	}
	if *session != "" {
		base = observe.WithSession(base, *session)
	}
	if *serve != "" {
		return serveHTTP(ctx, base, *serve, b)
	}
	questions := flag.Args()
	if len(questions) == 0 {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if q := strings.TrimSpace(sc.Text()); q != "" {
				questions = append(questions, q)
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	failed := 0
	for _, q := range questions {
		a, err := b.answer(base, q)
		if err != nil {
			failed++
			fmt.Printf("%s\n  error: %v\n", q, err)
			continue
		}
		fmt.Printf("%s\n  %s\n", q, a)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d questions failed (their traces record why)", failed, len(questions))
	}
	return nil
}

// serveHTTP answers POST /answer until ctx ends. A request's traceparent
// makes its spans children of the caller's span, in the caller's trace.
func serveHTTP(ctx, base context.Context, addr string, b *bot) error {
	prop := propagation.TraceContext{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /answer", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Question string `json:"question"`
			Input    string `json:"input"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, "want a JSON body {\"question\": \"...\"}: "+err.Error(), http.StatusBadRequest)
			return
		}
		q := req.Question
		if q == "" {
			q = req.Input
		}
		// The caller's trace, with this process's tracer, user and session.
		ctx := prop.Extract(context.WithoutCancel(base), propagation.HeaderCarrier(r.Header))
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		a, err := b.answer(ctx, q)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"answer": a})
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("faqbot: serving POST http://%s/answer (Ctrl-C stops)", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}
