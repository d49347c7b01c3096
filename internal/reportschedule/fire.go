package reportschedule

import (
	"time"
)

// searchDays bounds every forward search for a fire: a schedule with no fire in ten years
// (say, business days only with every weekday a holiday) is treated as never firing.
const searchDays = 3660

// NextFire is the first nominal fire strictly after `after`: the instant the schedule is
// meant to run, before blackout windows are applied. It honours the zone and its DST
// changes (see localInstant), StartDate and EndDate, and business days:
//
//   - daily and weekly with BusinessDaysOnly skip Saturdays, Sundays and holidays;
//   - monthly and quarterly with BusinessDaysOnly move a non-business day to the previous
//     business day of the same month, or to the next one when the month has none before it
//     (so the 1st never fires in the month before);
//   - a DayOfMonth past the month's end clamps to its last day (31 → 30 April, 28 or 29
//     February);
//   - LastBusinessDay is the month's last weekday that is not a holiday.
//
// cron and rate kinds fire as EventBridge Scheduler evaluates them in the zone (a
// wall-clock time skipped by a DST jump does not fire), except that a wall-clock time
// repeated when clocks go back fires only at its first occurrence; BusinessDaysOnly and
// the date bounds filter their firings. ok is false when there is no further fire (or
// the spec does not compile).
func NextFire(spec Spec, after time.Time) (time.Time, bool) {
	p, ok := compile(&spec)
	if !ok {
		return time.Time{}, false
	}
	return p.next(after)
}

// IsNominal reports whether t, truncated to the second, is one of the spec's nominal
// fires. The runner uses it to drop firings of the broader candidate expression.
func IsNominal(spec Spec, t time.Time) bool {
	p, ok := compile(&spec)
	return ok && p.isNominal(t)
}

func (p *plan) isNominal(t time.Time) bool {
	t = t.Truncate(time.Second)
	f, ok := p.next(t.Add(-time.Second))
	return ok && f.Equal(t)
}

func (p *plan) next(after time.Time) (time.Time, bool) {
	if p.kind == Cron || p.kind == Rate {
		return p.nextExpression(after)
	}
	return p.nextCalendar(after)
}

func (p *plan) nextCalendar(after time.Time) (time.Time, bool) {
	from := localDay(after, p.loc)
	if p.hasStart && from < p.start {
		from = p.start
	}
	until := from + searchDays
	if p.hasEnd && p.end < until {
		until = p.end
	}
	// The fire on after's own date may already be past; the one on any later date is not.
	for range 4 {
		d, ok := p.nominalDayFrom(from, until)
		if !ok {
			return time.Time{}, false
		}
		if t := localInstant(d, p.minute, p.loc); t.After(after) {
			return t, true
		}
		from = d + 1
	}
	return time.Time{}, false
}

// nominalDayFrom is the first date in [from, until] on which the calendar cadence fires.
func (p *plan) nominalDayFrom(from, until day) (day, bool) {
	switch p.kind {
	case Daily, Weekly:
		for d := from; d <= until; d++ {
			if p.kind == Weekly && p.dows&(1<<weekday(d)) == 0 {
				continue
			}
			if p.bdo && !p.isBusinessDay(d) {
				continue
			}
			return d, true
		}
	case Monthly, Quarterly:
		y, m, _ := civilFromDay(from)
		for dayFromCivil(y, m, 1) <= until {
			if p.kind == Monthly || (m-1)%3 == 0 {
				if d, ok := p.monthDay(y, m); ok && d >= from && d <= until {
					return d, true
				}
			}
			y, m = addMonths(y, m, 1)
		}
	}
	return 0, false
}

// monthDay is the date a monthly or quarterly cadence fires on in month (y, m); false
// when the month has no business day to offer.
func (p *plan) monthDay(y, m int) (day, bool) {
	n := daysInMonth(y, m)
	first := dayFromCivil(y, m, 1)
	if p.lastBD {
		for i := n - 1; i >= 0; i-- {
			if p.isBusinessDay(first + day(i)) {
				return first + day(i), true
			}
		}
		return 0, false
	}
	target := first + day(min(p.dom, n)-1)
	if !p.bdo || p.isBusinessDay(target) {
		return target, true
	}
	for d := target - 1; d >= first; d-- {
		if p.isBusinessDay(d) {
			return d, true
		}
	}
	for d := target + 1; d < first+day(n); d++ {
		if p.isBusinessDay(d) {
			return d, true
		}
	}
	return 0, false
}

// nextExpression walks the cron() or rate() firings, dropping those outside the date
// bounds, on non-business days (a whole day at a time) and repeats of a wall-clock time.
func (p *plan) nextExpression(after time.Time) (time.Time, bool) {
	cursor := after
	if p.hasStart {
		if s := localInstant(p.start, 0, p.loc); cursor.Before(s) {
			cursor = s.Add(-time.Nanosecond)
		}
	}
	limit := localDay(cursor, p.loc) + searchDays
	for range 4096 {
		t, ok := p.expr.Next(cursor, p.anchor, p.loc)
		if !ok {
			return time.Time{}, false
		}
		d := localDay(t, p.loc)
		if d > limit || (p.hasEnd && d > p.end) {
			return time.Time{}, false
		}
		switch {
		case p.bdo && !p.isBusinessDay(d):
			cursor = localInstant(d+1, 0, p.loc).Add(-time.Nanosecond)
		case p.kind == Cron && !isFirstOccurrence(t, d, p.loc):
			cursor = t
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

// isFirstOccurrence reports whether t is the first instant its local wall clock shows.
func isFirstOccurrence(t time.Time, d day, loc *time.Location) bool {
	lt := t.In(loc)
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	return localInstantSec(d, sec, loc).Equal(t)
}
