package traffic

import (
	"fmt"
	"sort"
	"time"

	"github.com/gavel-eval/gavel/report/stats"
)

// Period is the width of a dashboard's time buckets.
type Period string

// Periods of a dashboard. Buckets are aligned to UTC.
const (
	Hour Period = "hour"
	Day  Period = "day"
)

// Dimension is what a dashboard groups the traffic by.
type Dimension string

// Dimensions of a dashboard. A trace's model is the model with the most
// tokens among its model calls.
const (
	All     Dimension = ""
	Model   Dimension = "model"
	User    Dimension = "user"
	Session Dimension = "session"
	Service Dimension = "service"
)

// ParsePeriod reads "hour" or "day".
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case Hour, Day:
		return p, nil
	}
	return "", fmt.Errorf("period %q: want hour or day", s)
}

// ParseDimension reads "", "all", "model", "user", "session" or "service".
func ParseDimension(s string) (Dimension, error) {
	switch d := Dimension(s); d {
	case All, Model, User, Session, Service:
		return d, nil
	case "all", "none":
		return All, nil
	}
	return "", fmt.Errorf("group %q: want model, user, session or service", s)
}

// MaxGroups is how many groups a dashboard shows: the ones with the most
// traces; the rest are summed in one group named Other.
const MaxGroups = 8

// Other names the group of the traces beyond the MaxGroups largest, and
// None the group of traces without the value (no model call, no user).
const (
	Other = "(other)"
	None  = "(none)"
)

// Dashboard is the traffic over time, per Period, in one series per
// group.
type Dashboard struct {
	Per    Period    `json:"per"`
	By     Dimension `json:"by"`
	Judges []string  `json:"judges"`
	Series []Series  `json:"series"`
}

// Series is one group's buckets, oldest first. Buckets with no trace are
// left out.
type Series struct {
	Group   string   `json:"group"` // "all" for a dashboard of everything
	Traces  int      `json:"traces"`
	Buckets []Bucket `json:"buckets"`
}

// Bucket holds the figures of the traces that started in one hour or day.
// Latency percentiles are of the traces' durations, by linear
// interpolation between order statistics (R's quantile type 7, NumPy's
// default).
type Bucket struct {
	Start            time.Time `json:"start"`
	Traces           int       `json:"traces"`
	Errors           int       `json:"errors"`
	ErrorRate        float64   `json:"error_rate"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CostUSD          float64   `json:"cost_usd"`
	P50MS            float64   `json:"p50_ms"`
	P90MS            float64   `json:"p90_ms"`
	P95MS            float64   `json:"p95_ms"`
	P99MS            float64   `json:"p99_ms"`
	MaxMS            float64   `json:"max_ms"`
	// Scores are the means of the judges' scores over the bucket's
	// scored traces (a trace scored several times counts its mean once),
	// with how many traces were scored.
	Scores map[string]ScoreMean `json:"scores,omitempty"`
}

// ScoreMean is a mean over N scored traces.
type ScoreMean struct {
	Mean float64 `json:"mean"`
	N    int     `json:"n"`
}

func (s *state) group(by Dimension) string {
	var v string
	switch by {
	case All:
		return "all"
	case Model:
		v = s.model()
	case User:
		v = s.user
	case Session:
		v = s.session
	case Service:
		v = s.service
	}
	if v == "" {
		return None
	}
	return v
}

func bucketStart(ns int64, per Period) int64 {
	t := time.Unix(0, ns).UTC()
	if per == Day {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).UnixNano()
	}
	return t.Truncate(time.Hour).UnixNano()
}

// Dashboard computes the figures of the matching traces per period,
// grouped by by.
func (sum *Summary) Dashboard(per Period, by Dimension) Dashboard {
	d := Dashboard{Per: per, By: by, Judges: append([]string{}, sum.Judges...), Series: []Series{}}
	sizes := map[string]int{}
	for _, s := range sum.kept {
		sizes[s.group(by)]++
	}
	groups := make([]string, 0, len(sizes))
	for g := range sizes {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if sizes[groups[i]] != sizes[groups[j]] {
			return sizes[groups[i]] > sizes[groups[j]]
		}
		return groups[i] < groups[j]
	})
	name := map[string]string{}
	for i, g := range groups {
		if i < MaxGroups || len(groups) == MaxGroups+1 {
			name[g] = g
		} else {
			name[g] = Other
		}
	}
	type acc struct {
		b      Bucket
		durs   []float64
		scores []scoreSum
	}
	series := map[string]map[int64]*acc{}
	order := []string{}
	for _, s := range sum.kept {
		g := name[s.group(by)]
		m := series[g]
		if m == nil {
			m = map[int64]*acc{}
			series[g] = m
			order = append(order, g)
		}
		at := bucketStart(s.start, per)
		a := m[at]
		if a == nil {
			a = &acc{b: Bucket{Start: time.Unix(0, at).UTC()}, scores: make([]scoreSum, len(sum.judges))}
			m[at] = a
		}
		a.b.Traces++
		if s.failed {
			a.b.Errors++
		}
		a.b.PromptTokens += s.prompt
		a.b.CompletionTokens += s.completion
		a.b.CostUSD += s.cost
		a.durs = append(a.durs, float64(s.end-s.start)/1e6)
		for j, x := range s.scores {
			if x.n > 0 {
				a.scores[j].sum += x.sum / float64(x.n)
				a.scores[j].n++
			}
		}
	}
	for _, g := range order {
		m := series[g]
		se := Series{Group: g, Buckets: make([]Bucket, 0, len(m))}
		for _, a := range m {
			sort.Float64s(a.durs)
			b := a.b
			b.ErrorRate = float64(b.Errors) / float64(b.Traces)
			b.P50MS = stats.QuantileSorted(a.durs, 0.50)
			b.P90MS = stats.QuantileSorted(a.durs, 0.90)
			b.P95MS = stats.QuantileSorted(a.durs, 0.95)
			b.P99MS = stats.QuantileSorted(a.durs, 0.99)
			b.MaxMS = a.durs[len(a.durs)-1]
			for j, x := range a.scores {
				if x.n > 0 {
					if b.Scores == nil {
						b.Scores = map[string]ScoreMean{}
					}
					b.Scores[sum.judges[j]] = ScoreMean{Mean: x.sum / float64(x.n), N: x.n}
				}
			}
			se.Traces += b.Traces
			se.Buckets = append(se.Buckets, b)
		}
		sort.Slice(se.Buckets, func(i, j int) bool { return se.Buckets[i].Start.Before(se.Buckets[j].Start) })
		d.Series = append(d.Series, se)
	}
	sort.SliceStable(d.Series, func(i, j int) bool {
		a, b := d.Series[i], d.Series[j]
		if (a.Group == Other) != (b.Group == Other) {
			return b.Group == Other
		}
		if a.Traces != b.Traces {
			return a.Traces > b.Traces
		}
		return a.Group < b.Group
	})
	return d
}

// Dashboards returns the dashboards of every period and dimension, as the
// HTML page embeds them ("hour/model" -> dashboard; "hour/" for All).
func (sum *Summary) Dashboards() map[string]Dashboard {
	out := map[string]Dashboard{}
	for _, per := range []Period{Hour, Day} {
		for _, by := range []Dimension{All, Model, User, Session, Service} {
			out[string(per)+"/"+string(by)] = sum.Dashboard(per, by)
		}
	}
	return out
}
