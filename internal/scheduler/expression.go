package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/lazyregexp"
)

// Expression is a parsed schedule expression. Both adapters validate through it, and the
// embedded scheduler evaluates it, so what is accepted and what fires cannot drift apart.
type Expression struct {
	at    time.Time // wall clock of an at(), read in the schedule's zone; zero otherwise
	every time.Duration
	cron  *cronSpec
}

var (
	atRe   = lazyregexp.New(`^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$`)
	rateRe = lazyregexp.New(`^rate\(([1-9][0-9]{0,6}) (minutes?|hours?|days?)\)$`)
	cronRe = lazyregexp.New(`^cron\((.*)\)$`)
)

// ParseExpression parses EventBridge Scheduler syntax: at(), rate() or a six-field cron().
func ParseExpression(expr string) (Expression, error) {
	if m := atRe.FindStringSubmatch(expr); m != nil {
		t, err := time.Parse("2006-01-02T15:04:05", m[1])
		if err != nil {
			return Expression{}, fmt.Errorf("%w: %q: %v", ErrInvalid, expr, err)
		}
		return Expression{at: t}, nil
	}
	if m := rateRe.FindStringSubmatch(expr); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[m[2][0]]
		return Expression{every: time.Duration(n) * unit}, nil
	}
	if m := cronRe.FindStringSubmatch(expr); m != nil {
		c, err := parseCron(m[1])
		if err != nil {
			return Expression{}, fmt.Errorf("%w: %q: %v", ErrInvalid, expr, err)
		}
		return Expression{cron: c}, nil
	}
	return Expression{}, fmt.Errorf("%w: expression %q is not at(...), rate(...) or cron(...)", ErrInvalid, expr)
}

// OneShot reports whether the expression is an at().
func (e Expression) OneShot() bool { return !e.at.IsZero() }

// Next returns the first firing strictly after `after`, with times read in loc. A rate()
// counts whole intervals from anchor (its creation or start). ok is false when there is
// none: an at() already past, or a cron() with no match before its last year.
func (e Expression) Next(after, anchor time.Time, loc *time.Location) (next time.Time, ok bool) {
	switch {
	case e.OneShot():
		at := time.Date(e.at.Year(), e.at.Month(), e.at.Day(), e.at.Hour(), e.at.Minute(), e.at.Second(), 0, loc)
		return at, at.After(after)
	case e.every > 0:
		if anchor.After(after) {
			return anchor.Add(e.every), true
		}
		n := after.Sub(anchor)/e.every + 1
		return anchor.Add(n * e.every), true
	default:
		return e.cron.next(after, loc)
	}
}

// cronSpec is a six-field EventBridge cron: minutes hours day-of-month month day-of-week
// year. Day-of-week counts 1 (SUN) to 7 (SAT). Exactly one day field is "?".
type cronSpec struct {
	minute, hour, month bits
	year                [4]uint64 // bit i is year 1970+i
	dom, dow            dayRule   // nil when the field is "?"
}

type bits uint64

func (b bits) has(v int) bool { return b&(1<<uint(v)) != 0 }

// dayRule says whether a date matches a day field.
type dayRule func(t time.Time) bool

type field struct {
	name     string
	min, max int
	names    []string // names[i] is the value min+i
}

var (
	minutesField = field{name: "minutes", min: 0, max: 59}
	hoursField   = field{name: "hours", min: 0, max: 23}
	domField     = field{name: "day-of-month", min: 1, max: 31}
	monthField   = field{name: "month", min: 1, max: 12, names: strings.Fields("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC")}
	dowField     = field{name: "day-of-week", min: 1, max: 7, names: strings.Fields("SUN MON TUE WED THU FRI SAT")}
	yearField    = field{name: "year", min: 1970, max: 2199}
)

func parseCron(s string) (*cronSpec, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron needs 6 fields, got %d", len(f))
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, fmt.Errorf("exactly one of day-of-month and day-of-week must be '?'")
	}
	mins, err := minutesField.values(f[0])
	if err != nil {
		return nil, err
	}
	hours, err := hoursField.values(f[1])
	if err != nil {
		return nil, err
	}
	months, err := monthField.values(f[3])
	if err != nil {
		return nil, err
	}
	years, err := yearField.values(f[5])
	if err != nil {
		return nil, err
	}
	c := &cronSpec{minute: toBits(mins), hour: toBits(hours), month: toBits(months)}
	for i, ok := range years {
		if ok {
			c.year[i/64] |= 1 << uint(i%64)
		}
	}
	if c.dom, err = parseDOM(f[2]); err != nil {
		return nil, err
	}
	if c.dow, err = parseDOW(f[4]); err != nil {
		return nil, err
	}
	return c, nil
}

// toBits turns a value set of a field whose max is at most 63 into a bit set.
func toBits(v []bool) bits {
	var b bits
	for i, ok := range v {
		if ok {
			b |= 1 << uint(i)
		}
	}
	return b
}

// values expands a field of lists, ranges, steps and names; result[i] is value min+i for
// year and the value i itself for the others (their min is 0 or 1, well under 64).
func (f field) values(s string) ([]bool, error) {
	off := 0
	if f.min >= 64 {
		off = f.min
	}
	out := make([]bool, f.max-off+1)
	for _, part := range strings.Split(s, ",") {
		lo, hi, step, err := f.term(part)
		if err != nil {
			return nil, err
		}
		for v := lo; v <= hi; v += step {
			out[v-off] = true
		}
	}
	return out, nil
}

// term parses "*", "v", "a-b", each optionally followed by "/step"; "v/step" runs to max.
func (f field) term(s string) (lo, hi, step int, err error) {
	step = 1
	base, stepText, hasStep := strings.Cut(s, "/")
	if hasStep {
		if step, err = strconv.Atoi(stepText); err != nil || step < 1 || step > f.max-f.min+1 {
			return 0, 0, 0, fmt.Errorf("%s: bad step in %q", f.name, s)
		}
	}
	switch a, b, isRange := strings.Cut(base, "-"); {
	case base == "*":
		lo, hi = f.min, f.max
	case isRange:
		if lo, err = f.value(a); err == nil {
			hi, err = f.value(b)
		}
		if err == nil && lo > hi {
			err = fmt.Errorf("%s: range %q runs backwards", f.name, s)
		}
	default:
		lo, err = f.value(base)
		hi = lo
		if hasStep {
			hi = f.max
		}
	}
	return lo, hi, step, err
}

func (f field) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%s: %q is not a value in %d-%d", f.name, s, f.min, f.max)
	}
	return v, nil
}

// parseDOM accepts the value syntax plus "L" (last day) and "nW" (weekday nearest day n).
func parseDOM(s string) (dayRule, error) {
	switch {
	case s == "?":
		return nil, nil
	case s == "L":
		return func(t time.Time) bool { return t.Day() == daysIn(t) }, nil
	case strings.HasSuffix(s, "W"):
		n, err := domField.value(strings.TrimSuffix(s, "W"))
		if err != nil {
			return nil, err
		}
		return func(t time.Time) bool { return t.Day() == nearestWeekday(t, n) }, nil
	}
	v, err := domField.values(s)
	if err != nil {
		return nil, err
	}
	return func(t time.Time) bool { return v[t.Day()] }, nil
}

// parseDOW accepts the value syntax plus "nL" (last weekday n of the month) and "n#k"
// (k-th weekday n of the month).
func parseDOW(s string) (dayRule, error) {
	if s == "?" {
		return nil, nil
	}
	if d, k, ok := strings.Cut(s, "#"); ok {
		wd, err := dowField.value(d)
		nth, nerr := strconv.Atoi(k)
		if err != nil || nerr != nil || nth < 1 || nth > 5 {
			return nil, fmt.Errorf("day-of-week: bad %q", s)
		}
		return func(t time.Time) bool { return awsWeekday(t) == wd && (t.Day()-1)/7+1 == nth }, nil
	}
	if d, ok := strings.CutSuffix(s, "L"); ok {
		wd, err := dowField.value(d)
		if err != nil {
			return nil, err
		}
		return func(t time.Time) bool { return awsWeekday(t) == wd && t.Day()+7 > daysIn(t) }, nil
	}
	v, err := dowField.values(s)
	if err != nil {
		return nil, err
	}
	return func(t time.Time) bool { return v[awsWeekday(t)] }, nil
}

func awsWeekday(t time.Time) int { return int(t.Weekday()) + 1 }

func daysIn(t time.Time) int {
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nearestWeekday is the day of t's month that "nW" names: n itself on a weekday, else the
// nearest Monday-Friday without leaving the month.
func nearestWeekday(t time.Time, n int) int {
	last := daysIn(t)
	if n > last {
		n = last
	}
	d := time.Date(t.Year(), t.Month(), n, 0, 0, 0, 0, time.UTC)
	switch d.Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

func (c *cronSpec) dayMatches(t time.Time) bool {
	if c.dom != nil {
		return c.dom(t)
	}
	return c.dow(t)
}

func (c *cronSpec) yearHas(y int) bool {
	i := y - yearField.min
	return i >= 0 && i <= yearField.max-yearField.min && c.year[i/64]&(1<<uint(i%64)) != 0
}

// next walks forward from the minute after `after`, skipping a whole year, month, day or
// hour whenever that field does not match, so even sparse expressions take few steps.
func (c *cronSpec) next(after time.Time, loc *time.Location) (time.Time, bool) {
	t := after.In(loc).Truncate(time.Second)
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second)
	for range 200000 {
		y, m, d := t.Date()
		switch {
		case y > yearField.max:
			return time.Time{}, false
		case !c.yearHas(y):
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
		case !c.month.has(int(m)):
			t = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
		case !c.dayMatches(t):
			t = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		case !c.hour.has(t.Hour()):
			t = t.Add(time.Duration(60-t.Minute()) * time.Minute)
		case !c.minute.has(t.Minute()):
			t = t.Add(time.Minute)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}
