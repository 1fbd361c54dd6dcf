package stats

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPAdjustMatchesR checks every method against R 4.2's p.adjust on the
// inputs of testdata/refs/padjust.R; the expected values are read from its
// printed output, testdata/refs/padjust.R.txt ("case method q1 q2 ...").
func TestPAdjustMatchesR(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	inputs := map[string][]float64{
		"mixed": {0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.049},
		"ties":  {0.02, 0.02, 0.01, 0.04, 0.04, 0.3},
		"one":   {0.03},
		"edges": {0, 1, 0.5, 0, 0.025},
		"nan":   {0.01, nan, 0.04, 0.03, nan},
		"big":   {0.9, 0.8, 0.95, 0.99, 0.6},
	}
	f, err := os.Open("testdata/refs/padjust.R.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		in, ok := inputs[fields[0]]
		if !ok {
			t.Fatalf("unknown case %q", fields[0])
		}
		got, err := PAdjust(in, fields[1])
		if err != nil {
			t.Fatalf("%s %s: %v", fields[0], fields[1], err)
		}
		if len(got) != len(fields)-2 {
			t.Fatalf("%s %s: %d values; want %d", fields[0], fields[1], len(got), len(fields)-2)
		}
		for i, s := range fields[2:] {
			want, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			if math.IsNaN(want) != math.IsNaN(got[i]) || !math.IsNaN(want) && math.Abs(got[i]-want) > 1e-12*math.Max(want, 1e-300) {
				t.Errorf("%s %s [%d]: %v; want %v", fields[0], fields[1], i, got[i], want)
			}
		}
		lines++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != len(inputs)*len(PAdjustMethods) {
		t.Errorf("checked %d case×method lines; want %d", lines, len(inputs)*len(PAdjustMethods))
	}
}

func TestPAdjustErrors(t *testing.T) {
	t.Parallel()
	if _, err := PAdjust([]float64{0.1}, "sidak"); err == nil {
		t.Error("unknown method: no error")
	}
	for _, p := range []float64{-0.1, 1.5, math.Inf(1)} {
		if _, err := PAdjust([]float64{0.1, p}, "holm"); err == nil {
			t.Errorf("p = %v: no error", p)
		}
	}
	ps := []float64{0.04, 0.01}
	if _, err := PAdjust(ps, "BH"); err != nil || ps[0] != 0.04 || ps[1] != 0.01 {
		t.Errorf("PAdjust(BH) = %v, input now %v; want no error, input unchanged", err, ps)
	}
	if got, err := PAdjust(nil, "holm"); err != nil || len(got) != 0 {
		t.Errorf("PAdjust(nil) = %v, %v", got, err)
	}
}
