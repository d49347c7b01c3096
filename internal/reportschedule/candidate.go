package reportschedule

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// CandidateExpression is the EventBridge Scheduler cron() or rate() expression, evaluated
// in spec.Timezone, to register for the spec. Its firings are a superset of the nominal
// fires: the runner drops those IsNominal rejects. It widens where a scheduler cannot
// follow the rules itself:
//
//   - day of month: every day the month rule can land on (clamping, business-day moves,
//     the holidays in the spec), e.g. the 31st → 28-31; where holidays move the day, a
//     further week (holidayMargin) so holidays the tenant adds later are still covered:
//     last business day → 19-31, the 15th on business days → 6-15;
//   - time: when the zone's clocks jump over the local time, the instant after the gap
//     fires too, so 02:30 in New York also registers 03:00.
//
// Holidays moving a fire by more than that week are covered only once it is recomputed
// from a spec that lists them: recompute it whenever the spec or its calendar changes. A cron or
// rate cadence is its own candidate (a rate() counts from RateAnchor). "" for a spec that
// does not compile.
func CandidateExpression(spec Spec) string {
	p, ok := compile(&spec)
	if !ok {
		return ""
	}
	if p.kind == Cron || p.kind == Rate {
		return spec.Cadence.Expression
	}
	minutes := append([]int{p.minute}, p.gapLandings()...)
	var mins, hours []int
	for _, m := range minutes {
		mins, hours = append(mins, m%60), append(hours, m/60)
	}
	dom, month, dow := "*", "*", "?"
	switch p.kind {
	case Daily:
		if p.bdo {
			dom, dow = "?", "MON-FRI"
		}
	case Weekly:
		mask := p.dows
		if p.bdo && mask&weekdaysMask != 0 {
			mask &= weekdaysMask
		}
		dom, dow = "?", dayList(mask)
	case Monthly, Quarterly:
		dom = numberList(p.possibleMonthDays())
		if p.kind == Quarterly {
			month = "1,4,7,10"
		}
	}
	return "cron(" + strings.Join([]string{numberList(mins), numberList(hours), dom, month, dow, "*"}, " ") + ")"
}

// RateAnchor is the instant a rate cadence counts from: local midnight of StartDate, or
// the Unix epoch without one. Fires are anchor + k·interval for k ≥ 1, as the scheduler
// port evaluates rate(); an adapter registers the anchor as the schedule's start.
func RateAnchor(spec Spec) (time.Time, bool) {
	p, ok := compile(&spec)
	if !ok || p.kind != Rate {
		return time.Time{}, false
	}
	return p.anchor, true
}

const weekdaysMask uint8 = 0b0111110

// holidayMargin is how many days beyond the weekend-only moves the candidate allows a
// business-day rule to move for holidays not yet in the spec (one holiday week).
const holidayMargin = 7

// possibleMonthDays is every day of the month the monthly rule can fire on. Without
// holidays a month's fire depends only on its length and first weekday, and 2001-2028 is
// a full cycle of those; holidayMargin widens that for rules holidays can move, and the
// months holding a listed holiday are then added one by one.
func (p *plan) possibleMonthDays() []int {
	seen := map[int]bool{}
	add := func(q *plan, y, m int) {
		if p.kind == Quarterly && (m-1)%3 != 0 {
			return
		}
		if d, ok := q.monthDay(y, m); ok {
			_, _, dd := civilFromDay(d)
			seen[dd] = true
		}
	}
	plain := *p
	plain.holidays = nil
	for y := 2001; y <= 2028; y++ {
		for m := 1; m <= 12; m++ {
			add(&plain, y, m)
		}
	}
	if p.lastBD || p.bdo {
		widen(seen)
	}
	for _, h := range p.holidays {
		y, m, _ := civilFromDay(h)
		add(p, y, m)
	}
	days := make([]int, 0, len(seen))
	for d := range seen {
		days = append(days, d)
	}
	slices.Sort(days)
	if len(days) == 0 {
		// No month ever fires (Validate refuses this as never_fires); stay well-formed.
		days = append(days, min(max(p.dom, 1), 31))
	}
	return days
}

// widen adds holidayMargin days below the lowest landing day and, when that runs out of
// the month (the rule then moves forward), as many above the highest.
func widen(seen map[int]bool) {
	lo, hi := 32, 0
	for d := range seen {
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi == 0 {
		return
	}
	if lo-holidayMargin < 1 {
		hi = min(31, hi+holidayMargin)
	}
	for d := max(1, lo-holidayMargin); d <= hi; d++ {
		seen[d] = true
	}
}

// gapLandings are the local minutes of day at which a fire lands when the zone's clocks
// jump over the cadence's time: the first valid instant after each such gap, between the
// start date (or 2000) and the end date (or 2100).
func (p *plan) gapLandings() []int {
	from := dayFromCivil(2000, 1, 1)
	if p.hasStart {
		from = p.start
	}
	to := from + 100*366
	if p.hasEnd {
		to = p.end + 1
	}
	var out []int
	t, stop := localInstant(from, 0, p.loc), localInstant(to, 0, p.loc)
	for range 1000 { // a century of twice-yearly changes
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(stop) {
			break
		}
		if m, ok := p.landingAt(end); ok && !slices.Contains(out, m) && m != p.minute {
			out = append(out, m)
		}
		t = end
	}
	return out
}

// landingAt reports where a fire lands if the transition at instant tr opens a gap over
// the cadence's local time.
func (p *plan) landingAt(tr time.Time) (int, bool) {
	oldOff, newOff := offsetAt(tr.Unix()-1, p.loc), offsetAt(tr.Unix(), p.loc)
	if newOff <= oldOff {
		return 0, false
	}
	gapFrom, gapTo := tr.Unix()+oldOff, tr.Unix()+newOff // wall-clock seconds
	for _, d := range [2]int64{floorDiv(gapFrom, 86400), floorDiv(gapTo-1, 86400)} {
		if w := d*86400 + int64(p.minute)*60; w >= gapFrom && w < gapTo {
			return int((gapTo - floorDiv(gapTo, 86400)*86400) / 60), true
		}
	}
	return 0, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// numberList renders sorted distinct numbers as a cron field, runs of three or more as
// ranges: 28,29,30,31 → 28-31.
func numberList(values []int) string {
	v := slices.Clone(values)
	slices.Sort(v)
	v = slices.Compact(v)
	var parts []string
	for i := 0; i < len(v); {
		j := i
		for j+1 < len(v) && v[j+1] == v[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, strconv.Itoa(v[i])+"-"+strconv.Itoa(v[j]))
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, strconv.Itoa(v[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func dayList(mask uint8) string {
	var names []string
	for i := 1; i <= 7; i++ { // Monday first, for reading
		if wd := i % 7; mask&(1<<wd) != 0 {
			names = append(names, dayNames[wd])
		}
	}
	return strings.Join(names, ",")
}
