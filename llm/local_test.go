package llm_test

import (
	"testing"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/offline"
)

// local is the local providers the tests' routers serve: the offline
// models, as gavel registers them.
func local() map[string]llm.Provider {
	return map[string]llm.Provider{offline.Type: offline.Provider{}}
}

// offlineRouter returns a router serving only the offline models.
func offlineRouter(t testing.TB) *llm.Router {
	t.Helper()
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
