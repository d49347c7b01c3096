package reportschedule

import (
	"testing"
	"time"
)

func TestRetryAt(t *testing.T) {
	failed := utc(t, "2026-06-01T09:00:00Z")
	for _, tc := range []struct {
		name   string
		policy RetryPolicy
		delays []int // seconds for attempts 1, 2, …; dead letter after the last
	}{
		{"exponential capped", RetryPolicy{MaxAttempts: 5, Backoff: BackoffExponential, BaseSeconds: 60, CapSeconds: 300}, []int{60, 120, 240, 300, 300}},
		{"linear capped", RetryPolicy{MaxAttempts: 4, Backoff: BackoffLinear, BaseSeconds: 30, CapSeconds: 100}, []int{30, 60, 90, 100}},
		{"none", RetryPolicy{MaxAttempts: 2, Backoff: BackoffNone, BaseSeconds: 10, CapSeconds: 10}, []int{10, 10}},
		{"no retries", RetryPolicy{MaxAttempts: 0, Backoff: BackoffExponential, BaseSeconds: 60, CapSeconds: 60}, nil},
		{"default policy", DefaultRetryPolicy(), []int{60, 120, 240}},
		{"largest policy does not overflow", RetryPolicy{MaxAttempts: 10, Backoff: BackoffExponential, BaseSeconds: 86400, CapSeconds: 604800}, []int{86400, 172800, 345600, 604800, 604800, 604800, 604800, 604800, 604800, 604800}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range tc.delays {
				got, ok := RetryAt(tc.policy, i+1, failed)
				if !ok || got.Sub(failed) != time.Duration(want)*time.Second {
					t.Fatalf("attempt %d: got +%s (ok %v), want +%ds", i+1, got.Sub(failed), ok, want)
				}
			}
			if got, ok := RetryAt(tc.policy, len(tc.delays)+1, failed); ok {
				t.Fatalf("attempt %d: got retry at %s, want dead letter", len(tc.delays)+1, got)
			}
		})
	}
}

func TestCatchUp(t *testing.T) {
	daily9 := daily("UTC", "09:00")
	skip := daily9
	skip.CatchUp = SkipMissed
	hourly := Spec{Timezone: "Europe/Berlin", Cadence: Cadence{Kind: Cron, Expression: "cron(0 * * * ? *)"}}
	for _, tc := range []struct {
		name             string
		spec             Spec
		lastNominal, now string
		want             string // "" = nothing to run
	}{
		{"3-day outage runs only the latest", daily9, "2026-06-01T09:00:00Z", "2026-06-04T12:00:00Z", "2026-06-04T09:00:00Z"},
		{"fire exactly at now counts", daily9, "2026-06-01T09:00:00Z", "2026-06-04T09:00:00Z", "2026-06-04T09:00:00Z"},
		{"nothing missed", daily9, "2026-06-01T09:00:00Z", "2026-06-02T08:59:59Z", ""},
		{"skip_missed runs nothing", skip, "2026-06-01T09:00:00Z", "2026-06-04T12:00:00Z", ""},
		{"long outage of a frequent schedule", hourly, "2024-01-01T00:00:00Z", "2026-06-04T12:34:00Z", "2026-06-04T12:00:00Z"},
		{"now before last", daily9, "2026-06-04T09:00:00Z", "2026-06-01T09:00:00Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CatchUp(tc.spec, utc(t, tc.lastNominal), utc(t, tc.now))
			if tc.want == "" {
				if ok {
					t.Fatalf("got %s, want nothing", got)
				}
				return
			}
			if !ok || !got.Equal(utc(t, tc.want)) {
				t.Fatalf("got %s (ok %v), want %s", got, ok, tc.want)
			}
		})
	}
}

// TestCatchUpMatchesWalk compares the backward search with walking every fire.
func TestCatchUpMatchesWalk(t *testing.T) {
	spec := Spec{Timezone: "America/New_York", Cadence: Cadence{Kind: Weekly, Time: "02:30", Days: []string{"SUN"}}, BusinessDaysOnly: false}
	last := utc(t, "2026-01-04T07:30:00Z")
	for now := last; now.Before(utc(t, "2026-12-31T00:00:00Z")); now = now.Add(37 * time.Hour) {
		want, wantOK := time.Time{}, false
		for _, f := range fires(t, spec, last, now) {
			want, wantOK = f, true
		}
		got, ok := CatchUp(spec, last, now)
		if ok != wantOK || !got.Equal(want) {
			t.Fatalf("now %s: got %s %v, want %s %v", now, got, ok, want, wantOK)
		}
	}
}

func TestDataWindow(t *testing.T) {
	with := func(s Spec, kind DataWindowKind, hours int) Spec {
		s.DataWindow = DataWindowSpec{Kind: kind, Hours: hours}
		return s
	}
	ny, berlin := daily("America/New_York", "09:00"), daily("Europe/Berlin", "09:00")
	for _, tc := range []struct {
		name     string
		spec     Spec
		fire     string
		from, to string
	}{
		{"previous day over spring-forward is 23h", with(ny, PreviousDay, 0), "2026-03-09T13:00:00Z", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"},
		{"previous day over fall-back is 25h", with(berlin, PreviousDay, 0), "2026-10-26T08:00:00Z", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"},
		{"previous day by local date", with(daily("Asia/Tokyo", "08:30"), PreviousDay, 0), "2026-01-01T23:30:00Z", "2025-12-31T15:00:00Z", "2026-01-01T15:00:00Z"},
		{"previous week Monday to Sunday across the year", with(berlin, PreviousWeek, 0), "2026-01-07T08:00:00Z", "2025-12-28T23:00:00Z", "2026-01-04T23:00:00Z"},
		{"previous week from a Monday", with(berlin, PreviousWeek, 0), "2026-01-05T08:00:00Z", "2025-12-28T23:00:00Z", "2026-01-04T23:00:00Z"},
		{"previous week from a Sunday", with(berlin, PreviousWeek, 0), "2026-01-11T08:00:00Z", "2025-12-28T23:00:00Z", "2026-01-04T23:00:00Z"},
		{"previous month across the year", with(daily("UTC", "09:00"), PreviousMonth, 0), "2026-01-01T09:00:00Z", "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"previous month across DST", with(ny, PreviousMonth, 0), "2026-04-01T13:00:00Z", "2026-03-01T05:00:00Z", "2026-04-01T04:00:00Z"},
		{"previous quarter across the year", with(daily("UTC", "09:00"), PreviousQuarter, 0), "2026-01-15T09:00:00Z", "2025-10-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"previous quarter in zone", with(ny, PreviousQuarter, 0), "2026-05-20T13:00:00Z", "2026-01-01T05:00:00Z", "2026-04-01T04:00:00Z"},
		{"last hours", with(ny, LastHours, 6), "2026-03-08T13:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T13:00:00Z"},
		{"default for a monthly cadence", monthly("UTC", "09:00", 1), "2026-03-01T09:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to := DataWindow(tc.spec, utc(t, tc.fire))
			if !from.Equal(utc(t, tc.from)) || !to.Equal(utc(t, tc.to)) || from.Location() != time.UTC {
				t.Fatalf("got [%s, %s), want [%s, %s)", from, to, tc.from, tc.to)
			}
		})
	}
}
