package reportschedule

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func daily(tz, at string) Spec {
	return Spec{Timezone: tz, Cadence: Cadence{Kind: Daily, Time: at}}
}

func monthly(tz, at string, dom int) Spec {
	return Spec{Timezone: tz, Cadence: Cadence{Kind: Monthly, Time: at, DayOfMonth: dom}}
}

// fires lists the nominal fires in (from, to].
func fires(t testing.TB, spec Spec, from, to time.Time) []time.Time {
	t.Helper()
	var out []time.Time
	for f, ok := NextFire(spec, from); ok && !f.After(to); f, ok = NextFire(spec, f) {
		if !f.After(from) {
			t.Fatalf("NextFire went backwards: %s after %s", f, from)
		}
		out = append(out, f)
		from = f
		if len(out) > 200000 {
			t.Fatal("runaway")
		}
	}
	return out
}

var testZones = []string{
	"UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago",
	"Australia/Lord_Howe", "Asia/Kathmandu", "Asia/Tokyo", "America/Los_Angeles",
	"Europe/London", "Pacific/Auckland", "America/Sao_Paulo", "Asia/Kolkata", "Africa/Cairo",
	"America/Havana", "Europe/Moscow", "Asia/Tehran", "America/St_Johns", "Pacific/Chatham",
	"Europe/Lisbon", "America/Chicago", "Asia/Singapore", "Africa/Casablanca", "Asia/Gaza",
}

var testTimes = []string{"00:00", "00:15", "01:30", "02:00", "02:30", "03:00", "08:45", "09:00", "12:00", "23:59"}

var cronExprs = []string{
	"cron(0 9 ? * MON-FRI *)", "cron(30 2 * * ? *)", "cron(30 1 * * ? *)", "cron(0 0/6 * * ? *)",
	"cron(15 8 1,15 * ? *)", "cron(0 12 L * ? *)", "cron(0 7 ? * 2#1 *)", "cron(0 18 ? 1,4,7,10 6L *)",
}

var rateExprs = []string{"rate(1 hour)", "rate(6 hours)", "rate(1 day)", "rate(7 days)", "rate(90 minutes)"}

// randomSpec builds a varied valid spec: every cadence kind, zones with unusual DST rules,
// times inside DST gaps and overlaps, business days, holidays and bounds.
func randomSpec(r *rand.Rand) Spec {
	s := Spec{Timezone: testZones[r.IntN(len(testZones))]}
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	switch r.IntN(7) {
	case 0, 1:
		s.Cadence = Cadence{Kind: Daily, Time: pick(testTimes)}
	case 2:
		s.Cadence = Cadence{Kind: Weekly, Time: pick(testTimes)}
		for _, d := range dayNames {
			if r.IntN(3) == 0 {
				s.Cadence.Days = append(s.Cadence.Days, d)
			}
		}
		if len(s.Cadence.Days) == 0 {
			s.Cadence.Days = []string{"TUE"}
		}
	case 3, 4:
		kind := Monthly
		if r.IntN(2) == 0 {
			kind = Quarterly
		}
		s.Cadence = Cadence{Kind: kind, Time: pick(testTimes)}
		if r.IntN(4) == 0 {
			s.Cadence.LastBusinessDay = true
		} else {
			s.Cadence.DayOfMonth = 1 + r.IntN(31)
		}
	case 5:
		s.Cadence = Cadence{Kind: Cron, Expression: pick(cronExprs)}
	case 6:
		s.Cadence = Cadence{Kind: Rate, Expression: pick(rateExprs)}
	}
	s.BusinessDaysOnly = r.IntN(2) == 0
	for range r.IntN(12) {
		d := dayFromCivil(2026, 1, 1) + day(r.IntN(3*365))
		y, m, dd := civilFromDay(d)
		s.Holidays = append(s.Holidays, fmt.Sprintf("%04d-%02d-%02d", y, m, dd))
	}
	if r.IntN(4) == 0 {
		s.StartDate = "2026-02-10"
	}
	if r.IntN(4) == 0 {
		s.EndDate = "2027-11-20"
	}
	return s
}

func withBlackouts(r *rand.Rand, s Spec) Spec {
	behaviors := []Behavior{BehaviorDefer, BehaviorSkip, BehaviorRequireApproval}
	for i := range r.IntN(4) {
		w := BlackoutWindow{WindowRef: fmt.Sprintf("w%d", i), Behavior: behaviors[r.IntN(3)]}
		if r.IntN(2) == 0 {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(500*24)) * time.Hour)
			w.Kind, w.StartsAt, w.EndsAt = AbsoluteWindow, start.Format(time.RFC3339), start.Add(time.Duration(1+r.IntN(72))*time.Hour).Format(time.RFC3339)
		} else {
			w.Kind, w.Days = WeeklyWindow, []string{dayNames[r.IntN(7)], dayNames[r.IntN(7)]}
			w.Start, w.End = fmt.Sprintf("%02d:00", r.IntN(24)), fmt.Sprintf("%02d:30", r.IntN(24))
		}
		s.BlackoutWindows = append(s.BlackoutWindows, w)
	}
	return s
}
