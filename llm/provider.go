package llm

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Provider is a provider whose models answer in-process, with no server:
// the offline stand-in models (package llm/offline) or a library user's
// own, for example a Go function that plays a model in a test. The Router
// serves a Provider registered in Config.Local under its name: it checks
// every model name with CheckModel (in replay mode too), neither caches nor
// times its calls (their latency is 0), and prices them at nothing. Its
// calls still get a span, the limits and the retries of any other call.
type Provider interface {
	// CheckModel validates a model name (the part after "provider/")
	// without calling anything.
	CheckModel(model string) error
	// Chat answers one chat completion request for model.
	Chat(ctx context.Context, model string, req Request) (Response, error)
	// Embed answers one embeddings request for model.
	Embed(ctx context.Context, model string, req EmbedRequest) (EmbedResponse, error)
}

// localProvider serves a Provider through the Router's provider interface.
type localProvider struct{ p Provider }

func (l localProvider) check(model string) error { return l.p.CheckModel(model) }

func (l localProvider) chat(ctx context.Context, model string, req Request) (Response, error) {
	return l.p.Chat(ctx, model, req)
}

func (l localProvider) embed(ctx context.Context, model string, req EmbedRequest) (EmbedResponse, error) {
	return l.p.Embed(ctx, model, req)
}

func (localProvider) baseURL() string { return "" }

func (localProvider) free() bool { return true }

// isLocal reports whether p answers in-process.
func isLocal(p provider) bool {
	_, ok := p.(localProvider)
	return ok
}

// localNames returns the names of the local providers, sorted.
func localNames(local map[string]Provider) []string {
	names := make([]string, 0, len(local))
	for n := range local {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkLocal validates Config.Local.
func checkLocal(local map[string]Provider) error {
	for _, n := range localNames(local) {
		switch {
		case n == "" || strings.Contains(n, "/"):
			return fmt.Errorf("llm: local provider name %q is empty or contains \"/\"", n)
		case n == openAIName:
			return fmt.Errorf("llm: local provider name %q is the built-in OpenAI provider's", n)
		case local[n] == nil:
			return fmt.Errorf("llm: local provider %q is nil", n)
		}
	}
	return nil
}
