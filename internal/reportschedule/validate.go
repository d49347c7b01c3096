package reportschedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// Limits are the operator's bounds on what a tenant may schedule. A zero field takes its
// DefaultLimits value.
type Limits struct {
	// MinInterval is the smallest gap allowed between consecutive nominal fires.
	MinInterval        time.Duration
	MaxBlackoutWindows int
	MaxHolidays        int
	// Horizon is how far ahead a spec must fire at least once, past its blackouts, and
	// how far its fire gaps are sampled.
	Horizon time.Duration
	// Now is where the horizon starts when StartDate is earlier or unset; zero means the
	// current time.
	Now time.Time
}

// DefaultLimits are the bounds used when none are configured.
func DefaultLimits() Limits {
	return Limits{MinInterval: time.Hour, MaxBlackoutWindows: 16, MaxHolidays: 500, Horizon: 400 * 24 * time.Hour}
}

func (l Limits) withDefaults() Limits {
	def := DefaultLimits()
	if l.MinInterval <= 0 {
		l.MinInterval = def.MinInterval
	}
	if l.MaxBlackoutWindows <= 0 {
		l.MaxBlackoutWindows = def.MaxBlackoutWindows
	}
	if l.MaxHolidays <= 0 {
		l.MaxHolidays = def.MaxHolidays
	}
	if l.Horizon <= 0 {
		l.Horizon = def.Horizon
	}
	if l.Now.IsZero() {
		l.Now = time.Now()
	}
	return l
}

const (
	maxRetries      = 10
	maxBaseSeconds  = 86400
	maxCapSeconds   = 7 * 86400
	maxWindowHours  = 366 * 24
	maxSampledFires = 5000
	maxCheckedFires = 20000
	maxRefLength    = 128
)

// Validate checks the normalized form of spec and returns a *problem.Error naming the JSON
// path of the first bad field ("cadence.time", "blackout_windows[1].ends_at"). Beyond the
// shape of each field it refuses a cadence firing more often than Limits.MinInterval and,
// with code never_fires, a spec with no fire in Limits.Horizon (field "cadence", or
// "end_date" when the end is already past) or whose every fire there is skipped by a
// blackout (field "blackout_windows").
func Validate(spec Spec, limits Limits) error {
	limits = limits.withDefaults()
	s := Normalize(spec)
	checks := []func(*Spec, Limits) *problem.Error{
		checkZone, checkCadence, checkDates, checkBlackouts, checkRetry, checkCatchUp, checkDataWindow,
	}
	for _, check := range checks {
		if err := check(&s, limits); err != nil {
			return err
		}
	}
	p, ok := compile(&s)
	if !ok {
		// Every field above passed, so this is a combination compile cannot read.
		return problem.InvalidField("cadence", "the schedule cannot be interpreted")
	}
	if err := p.checkMinInterval(limits); err != nil {
		return err
	}
	if err := p.checkFires(limits); err != nil {
		return err // only a non-nil *problem.Error may become an error
	}
	return nil
}

func checkZone(s *Spec, _ Limits) *problem.Error {
	if s.Timezone == "" {
		return problem.InvalidField("timezone", "an IANA time zone is required")
	}
	if _, ok := location(s.Timezone); !ok {
		return problem.InvalidField("timezone", "is not a known IANA time zone")
	}
	return nil
}

func checkCadence(s *Spec, _ Limits) *problem.Error {
	c := &s.Cadence
	calendar := false
	switch c.Kind {
	case Daily, Weekly, Monthly, Quarterly:
		calendar = true
	case Cron, Rate:
	case "":
		return problem.InvalidField("cadence.kind", "is required")
	default:
		return problem.InvalidField("cadence.kind", "must be daily, weekly, monthly, quarterly, cron or rate")
	}
	if err := notAllowed(c, calendar); err != nil {
		return err
	}
	if !calendar {
		return checkExpression(c)
	}
	if _, ok := parseClock(c.Time, false); !ok {
		return problem.InvalidField("cadence.time", "must be a local time HH:MM from 00:00 to 23:59")
	}
	switch c.Kind {
	case Weekly:
		if len(c.Days) == 0 {
			return problem.InvalidField("cadence.days", "a weekly cadence needs at least one day")
		}
		for i, d := range c.Days {
			if _, ok := parseDay(d); !ok {
				return problem.InvalidField(fmt.Sprintf("cadence.days[%d]", i), "must be one of MON, TUE, WED, THU, FRI, SAT, SUN")
			}
		}
	case Monthly, Quarterly:
		switch {
		case c.LastBusinessDay && c.DayOfMonth != 0:
			return problem.InvalidField("cadence.day_of_month", "give either day_of_month or last_business_day, not both")
		case !c.LastBusinessDay && (c.DayOfMonth < 1 || c.DayOfMonth > 31):
			return problem.InvalidField("cadence.day_of_month", "must be from 1 to 31 (or set last_business_day)")
		}
	}
	return nil
}

// notAllowed refuses fields that the cadence kind does not read, so a mistaken field is
// reported rather than silently ignored.
func notAllowed(c *Cadence, calendar bool) *problem.Error {
	only := func(field, kinds string) *problem.Error {
		return problem.InvalidField("cadence."+field, "is only allowed for "+kinds+" cadences")
	}
	switch {
	case c.Expression != "" && calendar:
		return only("expression", "cron and rate")
	case c.Time != "" && !calendar:
		return only("time", "daily, weekly, monthly and quarterly")
	case len(c.Days) > 0 && c.Kind != Weekly:
		return only("days", "weekly")
	case c.DayOfMonth != 0 && c.Kind != Monthly && c.Kind != Quarterly:
		return only("day_of_month", "monthly and quarterly")
	case c.LastBusinessDay && c.Kind != Monthly && c.Kind != Quarterly:
		return only("last_business_day", "monthly and quarterly")
	}
	return nil
}

func checkExpression(c *Cadence) *problem.Error {
	if c.Expression == "" {
		return problem.InvalidField("cadence.expression", "is required for a "+string(c.Kind)+" cadence")
	}
	if !strings.HasPrefix(c.Expression, string(c.Kind)+"(") {
		return problem.InvalidField("cadence.expression", "must be a "+string(c.Kind)+"(...) expression")
	}
	if _, err := scheduler.ParseExpression(c.Expression); err != nil {
		// The parser's message quotes the expression; this one must not.
		return problem.InvalidField("cadence.expression", "is not a valid EventBridge Scheduler "+string(c.Kind)+"() expression")
	}
	return nil
}

func checkDates(s *Spec, l Limits) *problem.Error {
	if len(s.Holidays) > l.MaxHolidays {
		return problem.InvalidField("holidays", fmt.Sprintf("at most %d holidays", l.MaxHolidays))
	}
	for i, h := range s.Holidays {
		if _, ok := parseDate(h); !ok {
			return problem.InvalidField(fmt.Sprintf("holidays[%d]", i), "must be a date YYYY-MM-DD")
		}
	}
	start, okStart := parseDate(s.StartDate)
	if s.StartDate != "" && !okStart {
		return problem.InvalidField("start_date", "must be a date YYYY-MM-DD")
	}
	end, okEnd := parseDate(s.EndDate)
	if s.EndDate != "" && !okEnd {
		return problem.InvalidField("end_date", "must be a date YYYY-MM-DD")
	}
	if okStart && okEnd && end < start {
		return problem.InvalidField("end_date", "must not be before start_date")
	}
	return nil
}

func checkBlackouts(s *Spec, l Limits) *problem.Error {
	if len(s.BlackoutWindows) > l.MaxBlackoutWindows {
		return problem.InvalidField("blackout_windows", fmt.Sprintf("at most %d blackout windows", l.MaxBlackoutWindows))
	}
	refs := map[string]bool{}
	for i, w := range s.BlackoutWindows {
		field := func(name string) string { return fmt.Sprintf("blackout_windows[%d].%s", i, name) }
		switch {
		case w.WindowRef == "" || len(w.WindowRef) > maxRefLength:
			return problem.InvalidField(field("window_ref"), fmt.Sprintf("is required, at most %d characters", maxRefLength))
		case refs[w.WindowRef]:
			return problem.InvalidField(field("window_ref"), "is used by another window")
		}
		refs[w.WindowRef] = true
		switch w.Behavior {
		case BehaviorDefer, BehaviorSkip, BehaviorRequireApproval:
		default:
			return problem.InvalidField(field("behavior"), "must be defer, skip or require_manual_approval")
		}
		var err *problem.Error
		switch w.Kind {
		case AbsoluteWindow:
			err = checkAbsolute(w, field)
		case WeeklyWindow:
			err = checkWeekly(w, field)
		default:
			err = problem.InvalidField(field("kind"), "must be absolute or weekly")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkAbsolute(w BlackoutWindow, field func(string) string) *problem.Error {
	if len(w.Days) > 0 || w.Start != "" || w.End != "" {
		return problem.InvalidField(field("days"), "days, start and end are only for weekly windows")
	}
	from, err := time.Parse(time.RFC3339, w.StartsAt)
	if err != nil {
		return problem.InvalidField(field("starts_at"), "must be an RFC 3339 instant")
	}
	to, err := time.Parse(time.RFC3339, w.EndsAt)
	if err != nil {
		return problem.InvalidField(field("ends_at"), "must be an RFC 3339 instant")
	}
	if !to.After(from) {
		return problem.InvalidField(field("ends_at"), "must be after starts_at")
	}
	if to.Sub(from) > maxWindowHours*time.Hour {
		return problem.InvalidField(field("ends_at"), "a window lasts at most 366 days")
	}
	return nil
}

func checkWeekly(w BlackoutWindow, field func(string) string) *problem.Error {
	if w.StartsAt != "" || w.EndsAt != "" {
		return problem.InvalidField(field("starts_at"), "starts_at and ends_at are only for absolute windows")
	}
	if len(w.Days) == 0 {
		return problem.InvalidField(field("days"), "a weekly window needs at least one day")
	}
	for j, d := range w.Days {
		if _, ok := parseDay(d); !ok {
			return problem.InvalidField(fmt.Sprintf("%s[%d]", field("days"), j), "must be one of MON, TUE, WED, THU, FRI, SAT, SUN")
		}
	}
	start, ok := parseClock(w.Start, false)
	if !ok {
		return problem.InvalidField(field("start"), "must be a local time HH:MM")
	}
	end, ok := parseClock(w.End, true)
	if !ok {
		return problem.InvalidField(field("end"), "must be a local time HH:MM or 24:00")
	}
	if start == end {
		return problem.InvalidField(field("end"), "must differ from start")
	}
	return nil
}

func checkRetry(s *Spec, _ Limits) *problem.Error {
	r := s.RetryPolicy // Normalize always sets it
	switch {
	case r.MaxAttempts < 0 || r.MaxAttempts > maxRetries:
		return problem.InvalidField("retry_policy.max_attempts", fmt.Sprintf("must be from 0 to %d", maxRetries))
	case r.Backoff != BackoffNone && r.Backoff != BackoffLinear && r.Backoff != BackoffExponential:
		return problem.InvalidField("retry_policy.backoff", "must be none, linear or exponential")
	case r.BaseSeconds < 1 || r.BaseSeconds > maxBaseSeconds:
		return problem.InvalidField("retry_policy.base_seconds", fmt.Sprintf("must be from 1 to %d", maxBaseSeconds))
	case r.CapSeconds < r.BaseSeconds || r.CapSeconds > maxCapSeconds:
		return problem.InvalidField("retry_policy.cap_seconds", fmt.Sprintf("must be at least base_seconds and at most %d", maxCapSeconds))
	}
	return nil
}

func checkCatchUp(s *Spec, _ Limits) *problem.Error {
	if s.CatchUp != RunLatestOnce && s.CatchUp != SkipMissed {
		return problem.InvalidField("catch_up", "must be run_latest_once or skip_missed")
	}
	return nil
}

func checkDataWindow(s *Spec, _ Limits) *problem.Error {
	dw := s.DataWindow
	switch dw.Kind {
	case PreviousDay, PreviousWeek, PreviousMonth, PreviousQuarter:
		if dw.Hours != 0 {
			return problem.InvalidField("data_window.hours", "is only allowed for last_hours")
		}
	case LastHours:
		if dw.Hours < 1 || dw.Hours > maxWindowHours {
			return problem.InvalidField("data_window.hours", fmt.Sprintf("must be from 1 to %d", maxWindowHours))
		}
	default:
		return problem.InvalidField("data_window.kind", "must be previous_day, previous_week, previous_month, previous_quarter or last_hours")
	}
	return nil
}

// horizonStart is where fires are sampled from: Limits.Now, or the start date if later.
func (p *plan) horizonStart(l Limits) time.Time {
	from := l.Now
	if p.hasStart {
		if s := localInstant(p.start, 0, p.loc); s.After(from) {
			from = s.Add(-time.Nanosecond)
		}
	}
	return from
}

// checkMinInterval samples consecutive nominal fires over the horizon and refuses the
// spec as soon as two are closer than the minimum interval.
func (p *plan) checkMinInterval(l Limits) *problem.Error {
	from := p.horizonStart(l)
	stop := from.Add(l.Horizon)
	prev, ok := p.next(from)
	for i := 0; ok && i < maxSampledFires && !prev.After(stop); i++ {
		t, more := p.next(prev)
		if !more {
			break
		}
		if t.Sub(prev) < l.MinInterval {
			return problem.InvalidField("cadence", fmt.Sprintf("fires more often than the minimum interval of %s", l.MinInterval))
		}
		prev = t
	}
	return nil
}

// checkFires refuses a spec that has no fire in the horizon that a blackout does not skip.
func (p *plan) checkFires(l Limits) *problem.Error {
	from := p.horizonStart(l)
	stop := from.Add(l.Horizon)
	t, ok := p.next(from)
	if !ok || t.After(stop) {
		field := "cadence"
		if p.hasEnd && localInstant(p.end+1, 0, p.loc).Before(from) {
			field = "end_date"
		}
		return problem.New(problem.Invalid, "never_fires", field, "the schedule has no fire within the validation horizon")
	}
	// A bounded sample: a spec whose first maxCheckedFires fires are all skipped is
	// refused even if a later one would run.
	for i := 0; ok && i < maxCheckedFires && !t.After(stop); i++ {
		if p.evaluate(t).Action != ActionSkip {
			return nil
		}
		t, ok = p.next(t)
	}
	return problem.New(problem.Invalid, "never_fires", "blackout_windows", "every fire within the validation horizon is skipped by a blackout window")
}
