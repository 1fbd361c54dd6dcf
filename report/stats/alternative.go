package stats

import "fmt"

// Alternative is the alternative hypothesis of a paired test on the
// differences B - A (prompt B's score minus prompt A's on the same
// example). The null hypothesis is always "no difference".
type Alternative string

const (
	// TwoSided is the alternative "B differs from A" (either direction).
	TwoSided Alternative = "two-sided"
	// Greater is the alternative "B is better than A": the differences
	// B - A tend to be positive.
	Greater Alternative = "greater"
	// Less is the alternative "B is worse than A": the differences B - A
	// tend to be negative.
	Less Alternative = "less"
)

// ParseAlternative returns the Alternative named by s: "two-sided",
// "greater" or "less" (R's spelling in t.test, wilcox.test and
// binom.test). The empty string means TwoSided. Any other value is an
// error.
func ParseAlternative(s string) (Alternative, error) {
	switch Alternative(s) {
	case "", TwoSided:
		return TwoSided, nil
	case Greater, Less:
		return Alternative(s), nil
	}
	return "", fmt.Errorf("stats: unknown alternative %q (want two-sided, greater or less)", s)
}

// valid reports whether a is one of the three alternatives.
func (a Alternative) valid() bool { return a == TwoSided || a == Greater || a == Less }
