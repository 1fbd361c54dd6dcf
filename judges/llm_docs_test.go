package judges

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/internal/yamlstrict"
)

// TestLLMJudgesDocs keeps docs/judges-llm.md in step with the code: every
// LLM judge type has a section that names each of its options, and every
// default prompt appears verbatim.
func TestLLMJudgesDocs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "judges-llm.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, text := range map[string]string{
		"DefaultRubricPrompt": DefaultRubricPrompt, "DefaultClosedQAPrompt": DefaultClosedQAPrompt,
		"DefaultFactualityPrompt": DefaultFactualityPrompt, "DefaultClassifyPrompt": DefaultClassifyPrompt,
		"DefaultGEvalPrompt": DefaultGEvalPrompt, "DefaultGEvalStepsPrompt": DefaultGEvalStepsPrompt,
		"DefaultPairwisePrompt": DefaultPairwisePrompt, "DefaultPairwiseCriteria": DefaultPairwiseCriteria,
	} {
		if !strings.Contains(doc, text) {
			t.Errorf("docs/judges-llm.md does not show %s verbatim", name)
		}
	}
	for typ, f := range llmtCatalog() {
		if !strings.Contains(doc, "## `"+typ+"`") {
			t.Errorf("docs/judges-llm.md has no section for %s", typ)
		}
		st := reflect.TypeOf(f.NewConfig()).Elem()
		for key := range yamlstrict.Fields(st) {
			if !strings.Contains(doc, "`"+key+"`") {
				t.Errorf("docs/judges-llm.md does not mention option %s of %s", key, typ)
			}
		}
	}
}
