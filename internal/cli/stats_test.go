package cli

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStatsPAdjust: gavel stats p-adjust prints R's p.adjust, one value a
// line (values: report/stats/testdata/refs/padjust.R.out, case "mixed").
func TestStatsPAdjust(t *testing.T) {
	in := []string{"0.01", "0.04", "0.03", "0.005", "0.2", "0.5", "0.049"}
	cases := map[string][]float64{
		"bh":       {0.035000000000000003, 0.068599999999999994, 0.068599999999999994, 0.035000000000000003, 0.23333333333333336, 0.5, 0.068599999999999994},
		"holm":     {0.059999999999999998, 0.16, 0.14999999999999999, 0.035000000000000003, 0.40000000000000002, 0.5, 0.16},
		"hochberg": {0.059999999999999998, 0.14700000000000002, 0.14700000000000002, 0.035000000000000003, 0.40000000000000002, 0.5, 0.14700000000000002},
		"by":       {0.090750000000000011, 0.17787000000000003, 0.17787000000000003, 0.090750000000000011, 0.60500000000000009, 1, 0.17787000000000003},
	}
	for method, want := range cases {
		env, stdout, stderr := testEnv()
		if code := Main(context.Background(), append([]string{"stats", "p-adjust", "--method", method}, in...), env); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", method, code, stderr)
		}
		lines := strings.Fields(stdout.String())
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines; want %d:\n%s", method, len(lines), len(want), stdout)
		}
		for i, l := range lines {
			got, err := strconv.ParseFloat(l, 64)
			if err != nil || math.Abs(got-want[i]) > 1e-12*want[i] {
				t.Errorf("%s [%d]: %q; want %v", method, i, l, want[i])
			}
		}
	}
	// Default holm; NA is missing and not counted (R: p.adjust(c(0.01, NA,
	// 0.04, 0.03, NA), "holm") = 0.03 NA 0.06 0.06 NA).
	env, stdout, stderr := testEnv()
	if code := Main(context.Background(), []string{"stats", "p-adjust", "--format", "json", "0.01", "NA", "0.04", "0.03", "NaN"}, env); code != ExitOK {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	var out struct {
		Method    string     `json:"method"`
		P         []*float64 `json:"p"`
		PAdjusted []*float64 `json:"p_adjusted"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	want := []float64{0.03, math.NaN(), 0.06, 0.06, math.NaN()}
	if out.Method != "holm" || len(out.PAdjusted) != len(want) || len(out.P) != len(want) {
		t.Fatalf("json %s", stdout)
	}
	for i, w := range want {
		got := out.PAdjusted[i]
		if math.IsNaN(w) != (got == nil) || got != nil && math.Abs(*got-w) > 1e-15 {
			t.Errorf("json [%d]: %v; want %v", i, got, w)
		}
	}
}

func TestStatsPAdjustInvalid(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"0.1", "abc"}, `argument 2 "abc": not a number`},
		{[]string{"0.1", "1.5"}, `argument 2 "1.5": outside [0, 1]`},
		{[]string{"--", "-0.1"}, `argument 1 "-0.1": outside [0, 1]`},
		{[]string{"--method", "sidak", "0.1"}, `"sidak"`},
		{[]string{"--format", "csv", "0.1"}, `"csv"`},
		{nil, "requires at least 1 arg"},
	} {
		env, stdout, stderr := testEnv()
		code := Main(context.Background(), append([]string{"stats", "p-adjust"}, c.args...), env)
		if code != ExitError || !strings.Contains(stderr.String(), c.msg) || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 naming %s", c.args, code, stderr, stdout, c.msg)
		}
	}
}

// TestCompareStatFlags: --p-adjust and --zero-method reach the report and
// are recorded in its JSON; a bad value is a usage error.
func TestCompareStatFlags(t *testing.T) {
	run := arithmeticRun(t)
	js := filepath.Join(t.TempDir(), "r.json")
	env, _, stderr := testEnv()
	code := Main(context.Background(), []string{"compare", run, "--a", "hinted", "--b", "hinted-hot",
		"--p-adjust", "none", "--zero-method", "pratt", "--format", "json=" + js}, env)
	if code != ExitOK {
		t.Fatalf("compare: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		PAdjust     string `json:"p_adjust"`
		ZeroMethod  string `json:"zero_method"`
		Comparisons []struct {
			Judges []struct {
				Method    string   `json:"method"`
				P         *float64 `json:"p"`
				PRaw      *float64 `json:"p_raw"`
				PAdjusted *float64 `json:"p_adjusted"`
			}
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.PAdjust != "none" || rep.ZeroMethod != "pratt" || len(rep.Comparisons) == 0 || len(rep.Comparisons[0].Judges) == 0 {
		t.Fatalf("report: p_adjust %q zero_method %q, %d comparisons", rep.PAdjust, rep.ZeroMethod, len(rep.Comparisons))
	}
	for _, j := range rep.Comparisons[0].Judges {
		if j.Method == "" || j.P == nil || j.PRaw == nil || j.PAdjusted == nil || *j.PAdjusted != *j.P || *j.PRaw != *j.P {
			t.Errorf("judge: method %q p %v raw %v adjusted %v; want a method and adjusted = raw with --p-adjust none", j.Method, j.P, j.PRaw, j.PAdjusted)
		}
	}
	for _, args := range [][]string{{"--p-adjust", "sidak"}, {"--zero-method", "drop"}} {
		env, _, stderr := testEnv()
		code := Main(context.Background(), append([]string{"compare", run, "--a", "hinted", "--b", "hinted-hot"}, args...), env)
		if code != ExitError || !strings.Contains(stderr.String(), args[1]) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming the value", args, code, stderr)
		}
	}
}
