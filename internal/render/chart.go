package render

import (
	"math"
	"slices"
	"strings"
)

// ChartKind is how a chart draws its series.
type ChartKind string

const (
	ChartBar        ChartKind = "bar"         // the series side by side in each category
	ChartStackedBar ChartKind = "stacked_bar" // the series stacked into one bar per category
	ChartLine       ChartKind = "line"        // one line per series across the categories
)

// Chart is a picture of some of a document's numbers. It names no format's terms, so HTML,
// PDF and XLSX all draw the same picture from it. Categories run along the x axis in the
// order given; each series has one value per category (a missing value counts as 0).
type Chart struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Kind       ChartKind `json:"kind"`
	XLabel     string    `json:"x_label,omitempty"`
	YLabel     string    `json:"y_label,omitempty"`
	Categories []string  `json:"categories"`
	Series     []Series  `json:"series"`
}

// Series is one named row of values of a chart.
type Series struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// value is series s at category i. Counts cannot be negative or NaN, so such a value is
// drawn as nothing rather than breaking the scale.
func (c Chart) value(s, i int) float64 {
	v := c.Series[s].Values
	if i >= len(v) || math.IsNaN(v[i]) || math.IsInf(v[i], 0) || v[i] < 0 {
		return 0
	}
	return v[i]
}

// top is the highest bar or point: the largest stack for stacked bars.
func (c Chart) top() float64 {
	top := 0.0
	for i := range c.Categories {
		sum := 0.0
		for s := range c.Series {
			if c.Kind == ChartStackedBar {
				sum += c.value(s, i)
			} else {
				sum = max(sum, c.value(s, i))
			}
		}
		top = max(top, sum)
	}
	return top
}

// integral tells whether every value is a whole number, so the axis need not show fractions.
func (c Chart) integral() bool {
	for s := range c.Series {
		for i := range c.Categories {
			if v := c.value(s, i); v != math.Trunc(v) {
				return false
			}
		}
	}
	return true
}

// countsChart is a one-series bar chart of a tally. With an order (a vocabulary such as the
// severities, lowest first) every key of it is a bar, counted or not, and keys outside it
// follow by count; without one the bars go largest first like countsTable. limit caps the
// number of bars (0: all of them).
func countsChart(id, title, key string, c Counts, order []string, limit int) Chart {
	keys := slices.Clone(order)
	for _, r := range sortedCounts(c) {
		if k := r[0].(string); !slices.Contains(order, k) {
			keys = append(keys, k)
		}
	}
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	ch := Chart{ID: id, Title: title, Kind: ChartBar, XLabel: key, YLabel: "events", Categories: keys,
		Series: []Series{{Name: "events", Values: make([]float64, len(keys))}}}
	for i, k := range keys {
		ch.Series[0].Values[i] = float64(c[k])
	}
	return ch
}

// trendChart stacks the decisions of each day of the window. Every day is a category, with
// or without events, so a quiet day shows as a gap rather than vanishing; decisions no day
// saw get no series (and no legend entry).
func trendChart(days []string, trend map[string]Counts, decisions []string) Chart {
	ch := Chart{ID: "trend", Title: "Events by day", Kind: ChartStackedBar, XLabel: "day (UTC)", YLabel: "events", Categories: days}
	for _, d := range decisions {
		s := Series{Name: d, Values: make([]float64, len(days))}
		seen := false
		for i, day := range days {
			s.Values[i] = float64(trend[day][d])
			seen = seen || s.Values[i] > 0
		}
		if seen {
			ch.Series = append(ch.Series, s)
		}
	}
	return ch
}

// chartPalette follows the tenant's two colours for further series: ten hues far enough
// apart to tell the seven decisions apart, all dark enough to read on white.
var chartPalette = []string{"#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#76B7B2", "#EDC948", "#9C755F", "#FF9DA7", "#BAB0AC"}

// chartColors is the series colours: the tenant's primary and accent colours, then the
// palette, skipping anything that is not #rrggbb and any colour too close to one already
// taken (an orange accent would otherwise sit beside the palette's orange).
func chartColors(b Branding) []string {
	var out []string
	for _, c := range append([]string{b.PrimaryColor, b.AccentColor}, chartPalette...) {
		c = strings.ToUpper(c)
		if validHex(c) && !slices.ContainsFunc(out, func(o string) bool { return colorDistance(o, c) < 80 }) {
			out = append(out, c)
		}
	}
	return out
}

// colorDistance is the distance of two #rrggbb colours in RGB space (0 to 441).
func colorDistance(a, b string) float64 {
	r1, g1, b1 := rgb(a)
	r2, g2, b2 := rgb(b)
	return math.Sqrt(float64((r1-r2)*(r1-r2) + (g1-g2)*(g1-g2) + (b1-b2)*(b1-b2)))
}

func validHex(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !strings.ContainsRune("0123456789ABCDEFabcdef", r) {
			return false
		}
	}
	return true
}
