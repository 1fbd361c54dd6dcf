package judges

import "fmt"

// Scale is the level of measurement of a judge's scores. A comparison of
// two variants chooses its paired test by it (unless told otherwise):
// McNemar's exact test for binary judges, the sign test for ordinal ones
// and the Wilcoxon signed-rank test for continuous ones.
type Scale string

// The scales of judges.
const (
	// ScaleUnknown means the judge declares no scale: it is inferred from
	// the scores, binary when every score is 0 or 1, else continuous.
	ScaleUnknown Scale = ""
	// ScaleBinary is pass/fail: every score is 0 or 1.
	ScaleBinary Scale = "binary"
	// ScaleOrdinal is a few ordered levels whose distances mean nothing
	// (a label's score, a 1..5 rating): only the sign of a difference
	// counts.
	ScaleOrdinal Scale = "ordinal"
	// ScaleContinuous is a score whose differences can be ranked by size
	// (an overlap or similarity score, a probability-weighted rating).
	ScaleContinuous Scale = "continuous"
)

// ParseScale returns the Scale named s ("" is ScaleUnknown).
func ParseScale(s string) (Scale, error) {
	switch sc := Scale(s); sc {
	case ScaleUnknown, ScaleBinary, ScaleOrdinal, ScaleContinuous:
		return sc, nil
	}
	return "", fmt.Errorf("scale %q: want binary, ordinal or continuous", s)
}

// Scaler is implemented by judges whose scale depends on their
// configuration (g_eval is ordinal when it samples one rating and
// continuous when it weights ratings by their probabilities).
type Scaler interface {
	Scale() Scale
}

// ScaleOf returns the scale of judge j built by factory f: j's own when it
// is a Scaler, else f.Scale.
func ScaleOf(f Factory, j Judge) Scale {
	if s, ok := j.(Scaler); ok {
		return s.Scale()
	}
	return f.Scale
}
