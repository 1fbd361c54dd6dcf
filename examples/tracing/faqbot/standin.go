package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// startStandIn starts an OpenAI-compatible chat completions server on
// 127.0.0.1 that answers with the first sentence of the passage in the
// system message, and returns its API URL and a function stopping it.
func startStandIn() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var req openai.ChatCompletionRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var system, user string
		for _, m := range req.Messages {
			switch m.Role {
			case openai.ChatMessageRoleSystem:
				system = m.Content
			case openai.ChatMessageRoleUser:
				user = m.Content
			}
		}
		reply := strings.TrimPrefix(system, "Answer from this passage only: ")
		words := func(s string) int { return len(strings.Fields(s)) }
		resp := openai.ChatCompletionResponse{
			ID: "standin-1", Object: "chat.completion", Created: time.Now().Unix(), Model: req.Model,
			Choices: []openai.ChatCompletionChoice{{Index: 0, FinishReason: openai.FinishReasonStop,
				Message: openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: reply}}},
			Usage: openai.Usage{PromptTokens: words(system) + words(user), CompletionTokens: words(reply),
				TotalTokens: words(system) + words(user) + words(reply)},
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/v1", func() { srv.Close() }, nil
}
