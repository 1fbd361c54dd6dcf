package observe_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gavel-eval/gavel/observe"
	"github.com/gavel-eval/gavel/traces"
)

// An application traces its retrieval and answer into a directory that
// gavel's readers (and any Parquet reader) open as traces.parquet.
func ExampleDo() {
	dir, _ := os.MkdirTemp("", "observe")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	tr, err := observe.Start(ctx, observe.Config{Service: "faq-bot", Dir: dir, RunID: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx = observe.WithSession(tr.Context(ctx), "session-1")

	answer, _ := observe.Do(ctx, "answer", observe.Chain, func(ctx context.Context) (string, error) {
		docs, err := observe.Do(ctx, "search", observe.Retriever, func(context.Context) ([]string, error) {
			return []string{"Opening hours: 9 to 5."}, nil
		}, observe.Input("opening hours"))
		if err != nil {
			return "", err
		}
		return "We open at 9. (" + docs[0] + ")", nil
	})
	fmt.Println(answer)
	_ = tr.Shutdown(ctx)

	_ = traces.ReadFile(filepath.Join(dir, observe.TracesFile), func(r traces.Record) error {
		fmt.Println(r.Name, r.Kind, r.Variant, r.ExampleID)
		return nil
	})
	// Unordered output:
	// We open at 9. (Opening hours: 9 to 5.)
	// search retriever faq-bot session-1
	// answer chain faq-bot session-1
}
