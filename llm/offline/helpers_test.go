package offline_test

import (
	"encoding/json"
	"testing"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/offline"
)

// offlineRouter returns a router serving only the offline models.
func offlineRouter(t testing.TB) *llm.Router {
	t.Helper()
	r, err := llm.NewRouter(llm.Config{
		Getenv: func(string) string { return "" },
		Local:  map[string]llm.Provider{offline.Type: offline.Provider{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// verdictSchema lists "reason" before "pass".
const verdictSchema = `{"type":"object","properties":{"reason":{"type":"string"},"pass":{"type":"boolean"},"score":{"type":"number","minimum":0,"maximum":1}},"required":["reason","pass","score"],"additionalProperties":false}`
