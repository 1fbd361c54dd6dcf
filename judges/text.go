package judges

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the string judges beyond equals, contains and regex:
// icontains, contains_any, contains_all, not_contains, starts_with, length
// and word_count.

// foldText maps every rune of s to a canonical case (the lower case of its
// upper case), so that texts equal under Unicode simple case folding map to
// the same string: "K" (Kelvin sign), "K" and "k" all become "k", and "ſ",
// "S" and "s" become "s". It maps rune to rune, so rune offsets in the
// result are rune offsets in s.
func foldText(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}

// runeIndex returns the index in runes of the first occurrence of needle in
// hay, or -1.
func runeIndex(hay, needle string) int {
	i := strings.Index(hay, needle)
	if i < 0 {
		return -1
	}
	return utf8.RuneCountInString(hay[:i])
}

// contextRunes is how many runes of context a reason shows on each side of
// a match.
const contextRunes = 30

// excerpt returns the runes [from-contextRunes, to+contextRunes) of s, with
// "…" marking cuts, quoted.
func excerpt(s string, from, to int) string {
	runes := []rune(s)
	start, end := max(from-contextRunes, 0), min(to+contextRunes, len(runes))
	text := quote(string(runes[start:end]))
	if start > 0 {
		text = "…" + text
	}
	if end < len(runes) && !strings.HasSuffix(text, "…") {
		text += "…"
	}
	return text
}

// quoteList quotes up to maxListed values, separated by commas, noting how
// many more there are.
func quoteList(values []string) string {
	const maxListed = 10
	parts := make([]string, 0, min(len(values), maxListed)+1)
	for i, v := range values {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(values)-maxListed))
			break
		}
		parts = append(parts, quote(v))
	}
	return strings.Join(parts, ", ")
}

// ignoringCase returns the reason suffix for an ignore_case option.
func ignoringCase(on bool) string {
	if on {
		return " (ignoring case)"
	}
	return ""
}

// IContainsConfig holds the options of an `icontains` judge.
type IContainsConfig struct {
	// Value is the text the output must contain, compared without regard
	// to letter case. When it is empty the judge's rendered `expected`
	// template is used; judging fails with an error when both are empty.
	Value string `yaml:"value"`
}

// IContains passes when the output contains a substring, ignoring letter
// case (Unicode simple case folding). Its score is 1 or 0.
type IContains struct {
	cfg IContainsConfig
}

var _ Judge = (*IContains)(nil)

// NewIContains returns an icontains judge. Every configuration is valid.
func NewIContains(cfg IContainsConfig) (*IContains, error) {
	return &IContains{cfg: cfg}, nil
}

// Judge reports whether in.Output contains the configured value, or
// in.Expected, ignoring case.
func (j *IContains) Judge(_ context.Context, in Input) (Verdict, error) {
	needle := j.cfg.Value
	if needle == "" {
		needle = in.Expected
	}
	if needle == "" {
		return Verdict{}, errors.New("icontains: nothing to look for: set value or expected")
	}
	i := runeIndex(foldText(in.Output), foldText(needle))
	if i < 0 {
		return binary(false, "output does not contain "+quote(needle)+" (ignoring case)"), nil
	}
	return binary(true, fmt.Sprintf("output contains %s (ignoring case): %s",
		quote(needle), excerpt(in.Output, i, i+utf8.RuneCountInString(needle)))), nil
}

// ContainsListConfig holds the options of the `contains_any` and
// `contains_all` judges.
type ContainsListConfig struct {
	// Values are the texts to look for. Required: a non-empty list of
	// non-empty strings. A single string is accepted as a list of one.
	Values []string `yaml:"values"`
	// IgnoreCase searches without regard to letter case (Unicode simple
	// case folding).
	IgnoreCase bool `yaml:"ignore_case"`
}

// validate checks the values of a contains_any or contains_all judge.
func (c ContainsListConfig) validate() error {
	if len(c.Values) == 0 {
		return errors.New("values: required: a list of strings to look for")
	}
	for i, v := range c.Values {
		if v == "" {
			return fmt.Errorf("values[%d]: empty string (it would match every output)", i)
		}
	}
	return nil
}

// search returns, for each value, whether out contains it.
func (c ContainsListConfig) search(out string) (found, missing []string) {
	if c.IgnoreCase {
		out = foldText(out)
	}
	for _, v := range c.Values {
		n := v
		if c.IgnoreCase {
			n = foldText(v)
		}
		if strings.Contains(out, n) {
			found = append(found, v)
		} else {
			missing = append(missing, v)
		}
	}
	return found, missing
}

// ContainsAny passes when the output contains at least one of the
// configured values. Its score is 1 or 0.
type ContainsAny struct {
	cfg ContainsListConfig
}

var _ Judge = (*ContainsAny)(nil)

// NewContainsAny returns a contains_any judge. An empty list of values, or
// an empty value, is an error naming the `values` field.
func NewContainsAny(cfg ContainsListConfig) (*ContainsAny, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &ContainsAny{cfg: cfg}, nil
}

// Judge reports whether in.Output contains any of the values.
func (j *ContainsAny) Judge(_ context.Context, in Input) (Verdict, error) {
	found, _ := j.cfg.search(in.Output)
	suffix := ignoringCase(j.cfg.IgnoreCase)
	if len(found) == 0 {
		return binary(false, "output contains none of "+quoteList(j.cfg.Values)+suffix), nil
	}
	return binary(true, fmt.Sprintf("output contains %s (%d of %d values)%s",
		quoteList(found), len(found), len(j.cfg.Values), suffix)), nil
}

// ContainsAll passes when the output contains every one of the configured
// values. Its score is 1 or 0.
type ContainsAll struct {
	cfg ContainsListConfig
}

var _ Judge = (*ContainsAll)(nil)

// NewContainsAll returns a contains_all judge. An empty list of values, or
// an empty value, is an error naming the `values` field.
func NewContainsAll(cfg ContainsListConfig) (*ContainsAll, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &ContainsAll{cfg: cfg}, nil
}

// Judge reports whether in.Output contains all of the values.
func (j *ContainsAll) Judge(_ context.Context, in Input) (Verdict, error) {
	_, missing := j.cfg.search(in.Output)
	suffix := ignoringCase(j.cfg.IgnoreCase)
	if len(missing) > 0 {
		return binary(false, fmt.Sprintf("output is missing %d of %d values: %s%s",
			len(missing), len(j.cfg.Values), quoteList(missing), suffix)), nil
	}
	if len(j.cfg.Values) == 1 {
		return binary(true, "output contains "+quote(j.cfg.Values[0])+suffix), nil
	}
	return binary(true, fmt.Sprintf("output contains all %d values%s", len(j.cfg.Values), suffix)), nil
}

// NotContainsConfig holds the options of a `not_contains` judge.
type NotContainsConfig struct {
	// Value is the text the output must not contain. When it is empty the
	// judge's rendered `expected` template is used; judging fails with an
	// error when both are empty.
	Value string `yaml:"value"`
	// IgnoreCase searches without regard to letter case (Unicode simple
	// case folding).
	IgnoreCase bool `yaml:"ignore_case"`
}

// NotContains passes when the output does not contain a substring. Its
// score is 1 or 0; a failure's reason shows where the text was found.
type NotContains struct {
	cfg NotContainsConfig
}

var _ Judge = (*NotContains)(nil)

// NewNotContains returns a not_contains judge. Every configuration is
// valid; an empty Value is resolved against Input.Expected at judge time.
func NewNotContains(cfg NotContainsConfig) (*NotContains, error) {
	return &NotContains{cfg: cfg}, nil
}

// Judge reports whether in.Output is free of the configured value, or of
// in.Expected when no value is configured.
func (j *NotContains) Judge(_ context.Context, in Input) (Verdict, error) {
	needle := j.cfg.Value
	if needle == "" {
		needle = in.Expected
	}
	if needle == "" {
		return Verdict{}, errors.New("not_contains: nothing to look for: set value or expected")
	}
	hay, n := in.Output, needle
	if j.cfg.IgnoreCase {
		hay, n = foldText(hay), foldText(n)
	}
	suffix := ignoringCase(j.cfg.IgnoreCase)
	i := runeIndex(hay, n)
	if i < 0 {
		return binary(true, "output does not contain "+quote(needle)+suffix), nil
	}
	return binary(false, fmt.Sprintf("output contains %s%s at character %d: %s",
		quote(needle), suffix, i, excerpt(in.Output, i, i+utf8.RuneCountInString(needle)))), nil
}

// StartsWithConfig holds the options of a `starts_with` judge.
type StartsWithConfig struct {
	// Value is the prefix the output must start with. When it is empty the
	// judge's rendered `expected` template is used; judging fails with an
	// error when both are empty.
	Value string `yaml:"value"`
	// IgnoreCase compares without regard to letter case (Unicode simple
	// case folding).
	IgnoreCase bool `yaml:"ignore_case"`
	// Trim removes leading and trailing white space from both the output
	// and the prefix before comparing.
	Trim bool `yaml:"trim"`
}

// StartsWith passes when the output starts with a prefix. Its score is 1 or
// 0.
type StartsWith struct {
	cfg StartsWithConfig
}

var _ Judge = (*StartsWith)(nil)

// NewStartsWith returns a starts_with judge. Every configuration is valid;
// an empty Value is resolved against Input.Expected at judge time.
func NewStartsWith(cfg StartsWithConfig) (*StartsWith, error) {
	return &StartsWith{cfg: cfg}, nil
}

// Judge reports whether in.Output starts with the configured value, or with
// in.Expected when no value is configured.
func (j *StartsWith) Judge(_ context.Context, in Input) (Verdict, error) {
	prefix := j.cfg.Value
	if prefix == "" {
		prefix = in.Expected
	}
	out := in.Output
	if j.cfg.Trim {
		prefix, out = strings.TrimSpace(prefix), strings.TrimSpace(out)
	}
	if prefix == "" {
		return Verdict{}, errors.New("starts_with: no prefix to look for: set value or expected")
	}
	var what []string
	if j.cfg.IgnoreCase {
		what = append(what, "case")
	}
	if j.cfg.Trim {
		what = append(what, "surrounding white space")
	}
	suffix := ""
	if len(what) > 0 {
		suffix = " (ignoring " + strings.Join(what, ", ") + ")"
	}
	p, o := prefix, out
	if j.cfg.IgnoreCase {
		p, o = foldText(p), foldText(o)
	}
	if strings.HasPrefix(o, p) {
		return binary(true, "output starts with "+quote(prefix)+suffix), nil
	}
	if out == "" {
		return binary(false, "output is empty, expected it to start with "+quote(prefix)+suffix), nil
	}
	n := utf8.RuneCountInString(prefix)
	start := out
	if runes := []rune(out); len(runes) > n {
		start = string(runes[:n])
	}
	return binary(false, fmt.Sprintf("output starts with %s, not %s%s", quote(start), quote(prefix), suffix)), nil
}

// RangeConfig holds the options of the `length` and `word_count` judges:
// inclusive bounds, at least one of which must be set.
type RangeConfig struct {
	// Min is the smallest count that passes. Optional; must be >= 0.
	Min *int `yaml:"min"`
	// Max is the largest count that passes. Optional; must be >= 0 and >=
	// Min.
	Max *int `yaml:"max"`
}

// validate checks that at least one bound is set and that the bounds are
// consistent; unit names what is counted, for the error.
func (c RangeConfig) validate(unit string) error {
	switch {
	case c.Min == nil && c.Max == nil:
		return fmt.Errorf("min, max: set at least one (in %s)", unit)
	case c.Min != nil && *c.Min < 0:
		return fmt.Errorf("min: must be >= 0, got %d", *c.Min)
	case c.Max != nil && *c.Max < 0:
		return fmt.Errorf("max: must be >= 0, got %d", *c.Max)
	case c.Min != nil && c.Max != nil && *c.Min > *c.Max:
		return fmt.Errorf("max: %d is less than min %d", *c.Max, *c.Min)
	}
	return nil
}

// judge returns the verdict on a count of n units.
func (c RangeConfig) judge(n int, unit string) Verdict {
	var v Verdict
	switch {
	case c.Min != nil && n < *c.Min:
		v = binary(false, fmt.Sprintf("output has %d %s, fewer than min %d", n, unit, *c.Min))
	case c.Max != nil && n > *c.Max:
		v = binary(false, fmt.Sprintf("output has %d %s, more than max %d", n, unit, *c.Max))
	default:
		var bounds []string
		if c.Min != nil {
			bounds = append(bounds, fmt.Sprintf("min %d", *c.Min))
		}
		if c.Max != nil {
			bounds = append(bounds, fmt.Sprintf("max %d", *c.Max))
		}
		v = binary(true, fmt.Sprintf("output has %d %s (%s)", n, unit, strings.Join(bounds, ", ")))
	}
	v.Details = map[string]any{unit: n}
	return v
}

// Length passes when the output's length in Unicode code points (runes) is
// within bounds. The output is measured as it is, white space included.
// Its score is 1 or 0.
type Length struct {
	cfg RangeConfig
}

var _ Judge = (*Length)(nil)

// NewLength returns a length judge. Neither bound set, a negative bound or
// min > max is an error naming the field.
func NewLength(cfg RangeConfig) (*Length, error) {
	if err := cfg.validate("characters"); err != nil {
		return nil, err
	}
	return &Length{cfg: cfg}, nil
}

// Judge counts the runes of in.Output.
func (j *Length) Judge(_ context.Context, in Input) (Verdict, error) {
	return j.cfg.judge(utf8.RuneCountInString(in.Output), "characters"), nil
}

// WordCount passes when the output's number of words (runs of non-white
// space, as strings.Fields splits them) is within bounds. Its score is 1
// or 0.
type WordCount struct {
	cfg RangeConfig
}

var _ Judge = (*WordCount)(nil)

// NewWordCount returns a word_count judge. Neither bound set, a negative
// bound or min > max is an error naming the field.
func NewWordCount(cfg RangeConfig) (*WordCount, error) {
	if err := cfg.validate("words"); err != nil {
		return nil, err
	}
	return &WordCount{cfg: cfg}, nil
}

// Judge counts the words of in.Output.
func (j *WordCount) Judge(_ context.Context, in Input) (Verdict, error) {
	return j.cfg.judge(len(strings.Fields(in.Output)), "words"), nil
}
