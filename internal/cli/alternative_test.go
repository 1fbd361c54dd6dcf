package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareAlternativeTestFlags: --alternative, --test and --errors-as
// reach the report: the JSON names the test used and the alternative of
// each p, and the t-test's statistic and degrees of freedom; a bad value is
// a usage error.
func TestCompareAlternativeTestFlags(t *testing.T) {
	run := arithmeticRun(t)
	type judge struct {
		Test        string   `json:"test"`
		Scale       string   `json:"scale"`
		Alternative string   `json:"alternative"`
		T           *float64 `json:"t"`
		DF          *float64 `json:"df"`
		P           *float64 `json:"p"`
		N           int      `json:"n"`
	}
	read := func(args ...string) []judge {
		t.Helper()
		js := filepath.Join(t.TempDir(), "r.json")
		env, _, stderr := testEnv()
		code := Main(context.Background(), append([]string{"compare", run, "--a", "hinted", "--b", "hinted-hot", "--format", "json=" + js}, args...), env)
		if code != ExitOK {
			t.Fatalf("compare %v: exit %d: %s", args, code, stderr)
		}
		b, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Comparisons []struct{ Judges []judge }
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Comparisons) == 0 || len(rep.Comparisons[0].Judges) == 0 {
			t.Fatalf("compare %v: no judges", args)
		}
		return rep.Comparisons[0].Judges
	}
	byScale := map[string]string{"binary": "mcnemar_exact", "ordinal": "sign", "continuous": "wilcoxon_signed_rank"}
	scales := map[string]bool{}
	for _, j := range read() {
		scales[j.Scale] = true
		if j.Alternative != "two-sided" || j.T != nil || byScale[j.Scale] == "" || j.Test != byScale[j.Scale] {
			t.Errorf("default: the test follows the scale: %+v", j)
		}
	}
	if !scales["binary"] || !scales["ordinal"] {
		t.Errorf("default: scales %v, want binary and ordinal judges in the fixture", scales)
	}
	for _, j := range read("--test", "t", "--alternative", "less") {
		if j.Test != "paired_t" || j.Alternative != "less" || (j.N >= 2 && j.DF == nil) {
			t.Errorf("--test t --alternative less: %+v", j)
		}
	}
	for _, j := range read("--test", "sign", "--alternative", "greater", "--errors-as", "fail") {
		if j.Test != "sign" || j.Alternative != "greater" || j.P == nil {
			t.Errorf("--test sign --alternative greater: %+v", j)
		}
	}
	for _, args := range [][]string{{"--alternative", "two.sided"}, {"--test", "ttest"}, {"--errors-as", "zero"}} {
		env, _, stderr := testEnv()
		code := Main(context.Background(), append([]string{"compare", run, "--a", "hinted", "--b", "hinted-hot"}, args...), env)
		if code != ExitError || !strings.Contains(stderr.String(), args[1]) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming the value", args, code, stderr)
		}
	}
}
