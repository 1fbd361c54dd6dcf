package prompts_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gavel-eval/gavel/prompts"
)

// An application serves the prompt version its evaluation approved: the
// one the production label points at, from the same files.
func ExampleRegistry_Get() {
	dir, _ := os.MkdirTemp("", "prompts")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "greet.yaml"), []byte(`name: greet
versions:
  - version: v1
    text: "Hello, {{.user}}."
  - version: v2
    messages:
      - {role: system, content: "Be brief."}
      - {role: user, content: "Say hello to {{.user}}."}
labels:
  production: v1
`), 0o644)

	reg, err := prompts.Load(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := reg.Get("greet", "production")
	if err != nil {
		fmt.Println(err)
		return
	}
	msgs, err := p.Render(map[string]any{"user": "Ada"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Ref(), p.Label)
	for _, m := range msgs {
		fmt.Printf("%s: %s\n", m.Role, m.Content)
	}
	latest, _ := reg.Get("greet", "")
	fmt.Println(latest.Ref(), len(latest.Messages), "messages")
	// Output:
	// greet@v1 production
	// user: Hello, Ada.
	// greet@v2 2 messages
}
