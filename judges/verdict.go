package judges

import (
	"fmt"
	"unicode/utf8"
)

// reasonRunes is how many runes of a text a reason quotes before eliding the
// rest.
const reasonRunes = 200

// quote returns s as a Go-quoted string for a reason, cut to reasonRunes
// runes with an ellipsis marking the cut. Quoting keeps whitespace, control
// characters and invalid UTF-8 visible.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= reasonRunes {
		return fmt.Sprintf("%q", s)
	}
	n := 0
	for i := range s {
		if n == reasonRunes {
			return fmt.Sprintf("%q…", s[:i])
		}
		n++
	}
	return fmt.Sprintf("%q", s)
}

// binary returns the verdict of a pass/fail judge: score 1 when pass, else 0.
func binary(pass bool, reason string) Verdict {
	score := 0.0
	if pass {
		score = 1
	}
	return Verdict{Score: Float(score), Pass: pass, Reason: reason}
}
