// Command execjudge is a test program for the exec judge. It reads the
// judge's JSON input on stdin and behaves according to its "expected"
// field.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "sleeper" {
		// A grandchild that keeps stdout open.
		time.Sleep(30 * time.Second)
		return
	}
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var in struct {
		Output   string `json:"output"`
		Expected string `json:"expected"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	reply := func(v any) {
		if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
			os.Exit(2)
		}
	}
	switch in.Expected {
	case "match":
		pass := in.Output == "yes"
		score := 0.0
		if pass {
			score = 1
		}
		reply(map[string]any{"score": score, "pass": pass, "reason": "output was " + in.Output, "label": "checked"})
	case "echo":
		reply(map[string]any{"pass": true, "reason": string(raw)})
	case "env":
		env := os.Environ()
		sort.Strings(env)
		reply(map[string]any{"pass": true, "reason": strings.Join(env, "\n")})
	case "env-has":
		// Output is "NAME=VALUE": pass when the program's NAME is VALUE.
		name, value, _ := strings.Cut(in.Output, "=")
		reply(map[string]any{"pass": os.Getenv(name) == value})
	case "cwd":
		wd, _ := os.Getwd()
		reply(map[string]any{"pass": true, "reason": wd})
	case "args":
		reply(map[string]any{"pass": true, "reason": strings.Join(os.Args[1:], "|")})
	case "null-score":
		reply(map[string]any{"score": nil, "pass": false, "reason": "no scale"})
	case "no-reason":
		reply(map[string]any{"pass": true})
	case "details":
		reply(map[string]any{"pass": true, "score": 0.25, "reason": "r", "details": map[string]any{"n": 3}})
	case "exit":
		fmt.Fprintln(os.Stderr, "Traceback: something broke")
		os.Exit(3)
	case "secret-at":
		// Output is "WHERE POS TOTAL": print TOTAL bytes with $API_TOKEN
		// at byte POS, on stderr (then exit 1) or on stdout, or as the
		// reason, label and details of a reply.
		var where string
		var pos, total int
		if _, err := fmt.Sscanf(in.Output, "%s %d %d", &where, &pos, &total); err != nil {
			fmt.Fprintln(os.Stderr, "bad secret-at:", err)
			os.Exit(2)
		}
		secret := os.Getenv("API_TOKEN")
		text := strings.Repeat(".", pos) + secret + strings.Repeat(".", max(0, total-pos-len(secret)))
		switch where {
		case "stderr":
			fmt.Fprint(os.Stderr, text)
			os.Exit(1)
		case "stdout":
			fmt.Fprint(os.Stdout, text)
		case "reply":
			reply(map[string]any{"pass": true, "reason": text, "label": secret,
				"details": map[string]any{"text": text, "list": []any{secret, 1}, secret: map[string]any{"k": secret}}})
		}
	case "exit-secret":
		fmt.Fprintln(os.Stderr, "token is", os.Getenv("API_TOKEN"))
		os.Exit(1)
	case "big-stderr":
		fmt.Fprint(os.Stderr, "FIRST-LINE\n"+strings.Repeat("x", 100_000)+"\nLAST-LINE")
		os.Exit(1)
	case "bad-json":
		fmt.Println("score: 1, pass: yes")
	case "log-then-json":
		fmt.Println("loading model...")
		reply(map[string]any{"pass": true})
	case "trailing":
		fmt.Println(`{"pass": true} {"pass": false}`)
	case "empty":
	case "no-pass":
		reply(map[string]any{"score": 0.5, "reason": "forgot pass"})
	case "pass-string":
		reply(map[string]any{"pass": "true"})
	case "score-high":
		reply(map[string]any{"score": 1.5, "pass": true})
	case "score-negative":
		reply(map[string]any{"score": -0.1, "pass": false})
	case "score-string":
		reply(map[string]any{"score": "0.5", "pass": true})
	case "huge-stdout":
		fmt.Print(strings.Repeat(" ", 2<<20))
		reply(map[string]any{"pass": true})
	case "sleep":
		time.Sleep(30 * time.Second)
	case "grandchild":
		cmd := exec.Command(os.Args[0], "sleeper")
		cmd.Stdout = os.Stdout
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		time.Sleep(30 * time.Second)
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", in.Expected)
		os.Exit(2)
	}
}
