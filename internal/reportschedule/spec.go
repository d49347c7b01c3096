// Package reportschedule holds the rules of scheduled report delivery: when a schedule's
// nominal fires are (zone, DST, business days, holidays, bounds), which expression a
// scheduler must be given so that it fires at least at every nominal fire, what a blackout
// window does to a fire, when a failed run is retried, what runs after downtime and which
// data window a run covers. It is pure: no storage, no clock of its own, no cloud SDK.
package reportschedule

import (
	"slices"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
)

// CadenceKind names how often a schedule fires.
type CadenceKind string

const (
	Daily     CadenceKind = "daily"
	Weekly    CadenceKind = "weekly"
	Monthly   CadenceKind = "monthly"
	Quarterly CadenceKind = "quarterly" // January, April, July and October
	Cron      CadenceKind = "cron"
	Rate      CadenceKind = "rate"
)

// Cadence is the recurrence rule. Time is local wall-clock "HH:MM" for the calendar kinds;
// Expression is an EventBridge Scheduler cron() or rate() for the cron and rate kinds.
type Cadence struct {
	Kind CadenceKind `json:"kind"`
	Time string      `json:"time,omitempty"`
	// Days are "MON".."SUN" (weekly only).
	Days []string `json:"days,omitempty"`
	// DayOfMonth is 1..31 (monthly and quarterly). A day past the end of a shorter month
	// clamps to that month's last day: the 31st fires on 30 April and 28 (or 29) February.
	DayOfMonth int `json:"day_of_month,omitempty"`
	// LastBusinessDay fires on the month's last weekday that is not a holiday (monthly and
	// quarterly), instead of DayOfMonth.
	LastBusinessDay bool   `json:"last_business_day,omitempty"`
	Expression      string `json:"expression,omitempty"`
}

// BlackoutKind says how a blackout window is given.
type BlackoutKind string

const (
	AbsoluteWindow BlackoutKind = "absolute" // one interval between two instants
	WeeklyWindow   BlackoutKind = "weekly"   // the same local hours on given weekdays
)

// Behavior is what a blackout window does to a fire that falls inside it.
type Behavior string

const (
	BehaviorDefer           Behavior = "defer"
	BehaviorSkip            Behavior = "skip"
	BehaviorRequireApproval Behavior = "require_manual_approval"
)

// BlackoutWindow is a period in which fires do not simply run. An absolute window is
// [StartsAt, EndsAt) as RFC 3339 instants. A weekly window is [Start, End) local time on
// each of Days in the schedule's zone; End before Start wraps past midnight into the next
// day, and End may be "24:00".
type BlackoutWindow struct {
	WindowRef string       `json:"window_ref"`
	Kind      BlackoutKind `json:"kind"`
	StartsAt  string       `json:"starts_at,omitempty"`
	EndsAt    string       `json:"ends_at,omitempty"`
	Days      []string     `json:"days,omitempty"`
	Start     string       `json:"start,omitempty"`
	End       string       `json:"end,omitempty"`
	Behavior  Behavior     `json:"behavior"`
}

// Backoff is how the delay between retries grows.
type Backoff string

const (
	BackoffNone        Backoff = "none"        // base every time
	BackoffLinear      Backoff = "linear"      // base × attempt
	BackoffExponential Backoff = "exponential" // base × 2^(attempt-1)
)

// RetryPolicy governs re-running a failed run. MaxAttempts counts retries after the first
// attempt (0 = none), so a run is tried at most 1+MaxAttempts times before dead letter.
// Every delay is capped at CapSeconds.
type RetryPolicy struct {
	MaxAttempts int     `json:"max_attempts"`
	Backoff     Backoff `json:"backoff"`
	BaseSeconds int     `json:"base_seconds"`
	CapSeconds  int     `json:"cap_seconds"`
}

// CatchUpPolicy says what happens to nominal fires missed during downtime.
type CatchUpPolicy string

const (
	RunLatestOnce CatchUpPolicy = "run_latest_once"
	SkipMissed    CatchUpPolicy = "skip_missed"
)

// DataWindowKind names the period of data a run reports on.
type DataWindowKind string

const (
	PreviousDay     DataWindowKind = "previous_day"
	PreviousWeek    DataWindowKind = "previous_week" // Monday to Sunday
	PreviousMonth   DataWindowKind = "previous_month"
	PreviousQuarter DataWindowKind = "previous_quarter"
	LastHours       DataWindowKind = "last_hours"
)

// DataWindowSpec is the data period of each run; Hours is for last_hours only.
type DataWindowSpec struct {
	Kind  DataWindowKind `json:"kind"`
	Hours int            `json:"hours,omitempty"`
}

// Spec is a report schedule as the API receives it. Dates are "YYYY-MM-DD" in Timezone;
// StartDate and EndDate are inclusive and optional. Holidays are the tenant's calendar.
type Spec struct {
	Timezone         string           `json:"timezone"`
	Cadence          Cadence          `json:"cadence"`
	BusinessDaysOnly bool             `json:"business_days_only,omitempty"`
	Holidays         []string         `json:"holidays,omitempty"`
	StartDate        string           `json:"start_date,omitempty"`
	EndDate          string           `json:"end_date,omitempty"`
	BlackoutWindows  []BlackoutWindow `json:"blackout_windows,omitempty"`
	RetryPolicy      *RetryPolicy     `json:"retry_policy,omitempty"`
	CatchUp          CatchUpPolicy    `json:"catch_up,omitempty"`
	DataWindow       DataWindowSpec   `json:"data_window"`
}

// DefaultRetryPolicy is used when a spec gives none.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, Backoff: BackoffExponential, BaseSeconds: 60, CapSeconds: 3600}
}

// Normalize returns spec with defaults filled in and lists in canonical order, so that two
// specs meaning the same schedule are equal (and have the same Digest). It does not
// validate: unknown values are kept for Validate to name.
func Normalize(spec Spec) Spec {
	out := spec
	out.Cadence.Days = canonicalDays(spec.Cadence.Days)
	out.Holidays = sortedUnique(spec.Holidays)
	out.BlackoutWindows = nil
	for _, w := range spec.BlackoutWindows {
		w.Days = canonicalDays(w.Days)
		if w.Behavior == "" {
			w.Behavior = BehaviorDefer
		}
		out.BlackoutWindows = append(out.BlackoutWindows, w)
	}
	retry := DefaultRetryPolicy()
	if spec.RetryPolicy != nil {
		retry = normalizeRetry(*spec.RetryPolicy)
	}
	out.RetryPolicy = &retry
	if out.CatchUp == "" {
		out.CatchUp = RunLatestOnce
	}
	if out.DataWindow.Kind == "" {
		out.DataWindow = defaultDataWindow(spec.Cadence.Kind)
	}
	return out
}

func normalizeRetry(p RetryPolicy) RetryPolicy {
	def := DefaultRetryPolicy()
	if p.Backoff == "" {
		p.Backoff = def.Backoff
	}
	if p.BaseSeconds == 0 {
		p.BaseSeconds = def.BaseSeconds
	}
	if p.CapSeconds == 0 {
		p.CapSeconds = max(def.CapSeconds, p.BaseSeconds)
	}
	return p
}

// defaultDataWindow reports on the period the cadence naturally covers.
func defaultDataWindow(kind CadenceKind) DataWindowSpec {
	switch kind {
	case Daily:
		return DataWindowSpec{Kind: PreviousDay}
	case Weekly:
		return DataWindowSpec{Kind: PreviousWeek}
	case Monthly:
		return DataWindowSpec{Kind: PreviousMonth}
	case Quarterly:
		return DataWindowSpec{Kind: PreviousQuarter}
	}
	return DataWindowSpec{Kind: LastHours, Hours: 24}
}

// canonicalDays sorts known day names Monday first and drops repeats; unknown names stay,
// at the end, for Validate to refuse.
func canonicalDays(days []string) []string {
	if len(days) == 0 {
		return nil
	}
	out := slices.Clone(days)
	rank := func(s string) int {
		if wd, ok := parseDay(s); ok {
			return (wd + 6) % 7
		}
		return 7
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return slices.Compact(out)
}

func sortedUnique(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

// Digest is "sha256:<hex>" over the canonical JSON of the normalized spec, so an approval
// can be bound to exactly one version of a schedule.
func Digest(spec Spec) string {
	d, err := canonjson.DigestOf(Normalize(spec))
	if err != nil {
		// A Spec holds only strings, numbers, booleans and lists of them: it always encodes.
		return ""
	}
	return d
}
