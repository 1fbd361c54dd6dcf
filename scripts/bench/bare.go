package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// bareClient makes the requests of the runner section's run — jobs jobs,
// each a chain call and then a judge call, c at a time — with nothing but
// net/http and encoding/json, against the same server: what this machine
// allows any client, the server sharing its cores. gavel's efficiency
// divided by this one is how much of the attainable rate gavel reaches.
func bareClient(ctx context.Context, url string, jobs, c int) (requests int64, wall time.Duration, err error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
	defer client.CloseIdleConnections()
	body := func(prompt string) []byte {
		b, _ := json.Marshal(map[string]any{"model": "m1", "temperature": 0,
			"messages": []any{map[string]any{"role": "user", "content": prompt}}})
		return b
	}
	chain := body("Answer briefly. Item 1 of the list is written on a card. What is the code word on card 1?")
	judge := body("[Rubric]\nThe output states the code word 42.\n[Output]\nThe code word is 42.")
	call := func(b []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/chat/completions", bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var reply struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK || len(reply.Choices) == 0 {
			return fmt.Errorf("bare client: status %d", resp.StatusCode)
		}
		return nil
	}
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(jobs) {
				for _, b := range [][]byte{chain, judge} {
					if e := call(b); e != nil {
						once.Do(func() { err = e })
						return
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return done.Load(), time.Since(start), err
}
