package reportschedule

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestNextFire(t *testing.T) {
	ny, berlin := "America/New_York", "Europe/Berlin"
	withHolidays := func(s Spec, bdo bool, h ...string) Spec {
		s.BusinessDaysOnly, s.Holidays = bdo, h
		return s
	}
	lastBD := Spec{Timezone: "UTC", Cadence: Cadence{Kind: Monthly, Time: "17:00", LastBusinessDay: true}}
	weekly := Spec{Timezone: "Asia/Tokyo", Cadence: Cadence{Kind: Weekly, Time: "08:00", Days: []string{"FRI", "MON", "WED"}}}
	quarterly := func(dom int) Spec {
		return Spec{Timezone: "UTC", Cadence: Cadence{Kind: Quarterly, Time: "09:00", DayOfMonth: dom}}
	}
	bounded := daily("UTC", "09:00")
	bounded.StartDate, bounded.EndDate = "2026-05-01", "2026-05-03"
	cron := func(tz, expr string) Spec { return Spec{Timezone: tz, Cadence: Cadence{Kind: Cron, Expression: expr}} }
	rate := func(expr, start, end string) Spec {
		return Spec{Timezone: "UTC", Cadence: Cadence{Kind: Rate, Expression: expr}, StartDate: start, EndDate: end}
	}
	for _, tc := range []struct {
		name  string
		spec  Spec
		after string
		want  string // "" = no fire
	}{
		{"NY spring-forward 02:30 fires at 03:00 EDT", daily(ny, "02:30"), "2026-03-07T08:00:00Z", "2026-03-08T07:00:00Z"},
		{"NY day after spring-forward back to 02:30", daily(ny, "02:30"), "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
		{"NY fall-back 01:30 first occurrence (EDT)", daily(ny, "01:30"), "2026-10-31T06:00:00Z", "2026-11-01T05:30:00Z"},
		{"NY fall-back 01:30 not again at EST", daily(ny, "01:30"), "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		{"Berlin spring-forward 02:30 fires at 03:00 CEST", daily(berlin, "02:30"), "2026-03-28T02:00:00Z", "2026-03-29T01:00:00Z"},
		{"Berlin fall-back 02:30 first occurrence", daily(berlin, "02:30"), "2026-10-24T01:00:00Z", "2026-10-25T00:30:00Z"},
		{"Berlin fall-back 02:30 not again at CET", daily(berlin, "02:30"), "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
		{"same day when still ahead", daily(berlin, "09:00"), "2026-07-01T06:59:59Z", "2026-07-01T07:00:00Z"},
		{"strictly after", daily(berlin, "09:00"), "2026-07-01T07:00:00Z", "2026-07-02T07:00:00Z"},
		{"31st clamps to 28 Feb", monthly("UTC", "09:00", 31), "2026-02-01T00:00:00Z", "2026-02-28T09:00:00Z"},
		{"31st clamps to 30 Apr", monthly("UTC", "09:00", 31), "2026-04-01T00:00:00Z", "2026-04-30T09:00:00Z"},
		{"31st after 30 Apr is 31 May", monthly("UTC", "09:00", 31), "2026-04-30T09:00:00Z", "2026-05-31T09:00:00Z"},
		{"31st in leap February", monthly("UTC", "09:00", 31), "2028-02-01T00:00:00Z", "2028-02-29T09:00:00Z"},
		{"29th in common February", monthly("UTC", "09:00", 29), "2027-02-01T00:00:00Z", "2027-02-28T09:00:00Z"},
		{"29th in leap February", monthly("UTC", "09:00", 29), "2028-02-01T00:00:00Z", "2028-02-29T09:00:00Z"},
		{"last business day skips holiday on last weekday", withHolidays(lastBD, false, "2026-12-31"), "2026-12-01T00:00:00Z", "2026-12-30T17:00:00Z"},
		{"last business day skips weekend", lastBD, "2026-01-01T00:00:00Z", "2026-01-30T17:00:00Z"},
		{"last business day plain", lastBD, "2026-12-01T00:00:00Z", "2026-12-31T17:00:00Z"},
		{"weekly next listed day", weekly, "2026-01-06T00:00:00Z", "2026-01-06T23:00:00Z"},
		{"weekly wraps to Monday", weekly, "2026-01-09T00:00:00Z", "2026-01-11T23:00:00Z"},
		{"quarterly skips to April", quarterly(15), "2026-01-16T00:00:00Z", "2026-04-15T09:00:00Z"},
		{"quarterly 31st clamps to 30 Apr", quarterly(31), "2026-02-01T00:00:00Z", "2026-04-30T09:00:00Z"},
		{"quarterly 1st on holiday moves forward in month", withHolidays(quarterly(1), true, "2027-01-01"), "2026-10-02T00:00:00Z", "2027-01-04T09:00:00Z"},
		{"monthly business day Sunday → Friday", withHolidays(monthly("UTC", "09:00", 15), true), "2026-03-01T00:00:00Z", "2026-03-13T09:00:00Z"},
		{"monthly business day back over holiday", withHolidays(monthly("UTC", "09:00", 15), true, "2026-03-13"), "2026-03-01T00:00:00Z", "2026-03-12T09:00:00Z"},
		{"monthly 1st on Saturday stays in month", withHolidays(monthly("UTC", "09:00", 1), true), "2026-07-31T00:00:00Z", "2026-08-03T09:00:00Z"},
		{"daily business days skip holiday and weekend", withHolidays(daily("UTC", "09:00"), true, "2026-12-25"), "2026-12-24T10:00:00Z", "2026-12-28T09:00:00Z"},
		{"holiday ignored without business_days_only", withHolidays(daily("UTC", "09:00"), false, "2026-12-25"), "2026-12-24T10:00:00Z", "2026-12-25T09:00:00Z"},
		{"start date", bounded, "2026-01-01T00:00:00Z", "2026-05-01T09:00:00Z"},
		{"end date inclusive", bounded, "2026-05-02T09:00:00Z", "2026-05-03T09:00:00Z"},
		{"after end date", bounded, "2026-05-03T09:00:00Z", ""},
		{"cron fall-back repeat dropped", cron(ny, "cron(30 1 * * ? *)"), "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		{"cron spring-forward skipped as the scheduler does", cron(ny, "cron(30 2 * * ? *)"), "2026-03-07T08:00:00Z", "2026-03-09T06:30:00Z"},
		{"cron business days skip holiday", withHolidays(cron("UTC", "cron(0 9 * * ? *)"), true, "2026-12-25"), "2026-12-24T10:00:00Z", "2026-12-28T09:00:00Z"},
		{"rate counts from start date", rate("rate(7 days)", "2026-01-07", ""), "2026-01-01T00:00:00Z", "2026-01-14T00:00:00Z"},
		{"rate within end date", rate("rate(1 hour)", "2026-01-07", "2026-01-07"), "2026-01-07T22:30:00Z", "2026-01-07T23:00:00Z"},
		{"rate past end date", rate("rate(1 hour)", "2026-01-07", "2026-01-07"), "2026-01-07T23:00:00Z", ""},
		{"invalid zone never fires", daily("Mars/Olympus", "09:00"), "2026-01-01T00:00:00Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NextFire(tc.spec, utc(t, tc.after))
			if tc.want == "" {
				if ok {
					t.Fatalf("got %s, want no fire", got.UTC().Format(time.RFC3339))
				}
				return
			}
			if want := utc(t, tc.want); !ok || !got.Equal(want) {
				t.Fatalf("got %s (ok %v), want %s", got.UTC().Format(time.RFC3339), ok, tc.want)
			}
			if !IsNominal(tc.spec, got) {
				t.Fatalf("IsNominal(%s) = false for a NextFire result", got)
			}
		})
	}
}

func TestDSTFiresExactlyOncePerDay(t *testing.T) {
	for _, tc := range []struct {
		tz, at string
		date   string // the transition date
	}{
		{"America/New_York", "02:30", "2026-03-08"},
		{"America/New_York", "01:30", "2026-11-01"},
		{"Europe/Berlin", "02:30", "2026-03-29"},
		{"Europe/Berlin", "02:30", "2026-10-25"},
	} {
		loc, _ := location(tc.tz)
		spec := daily(tc.tz, tc.at)
		got := fires(t, spec, utc(t, "2026-01-01T00:00:00Z"), utc(t, "2027-01-01T00:00:00Z"))
		perDay := map[string]int{}
		for _, f := range got {
			perDay[f.In(loc).Format("2006-01-02")]++
		}
		if len(got) != 365 || perDay[tc.date] != 1 {
			t.Errorf("%s %s: %d fires in 2026, %d on %s; want 365 and 1", tc.tz, tc.at, len(got), perDay[tc.date], tc.date)
		}
	}
}

func TestIsNominal(t *testing.T) {
	ny := daily("America/New_York", "01:30")
	for _, tc := range []struct {
		spec Spec
		at   string
		want bool
	}{
		{ny, "2026-11-01T05:30:00Z", true},
		{ny, "2026-11-01T06:30:00Z", false}, // the repeated 01:30
		{ny, "2026-11-02T06:30:00Z", true},
		{ny, "2026-11-02T06:31:00Z", false},
		{daily("America/New_York", "02:30"), "2026-03-08T07:00:00Z", true},
		{daily("America/New_York", "02:30"), "2026-03-08T07:30:00Z", false},
		{monthly("UTC", "09:00", 31), "2026-04-30T09:00:00Z", true},
		{monthly("UTC", "09:00", 31), "2026-03-30T09:00:00Z", false},
	} {
		if got := IsNominal(tc.spec, utc(t, tc.at)); got != tc.want {
			t.Errorf("IsNominal(%s %s, %s) = %v", tc.spec.Timezone, tc.spec.Cadence.Time, tc.at, got)
		}
	}
	// Sub-second jitter on a firing is tolerated.
	if !IsNominal(ny, utc(t, "2026-11-02T06:30:00Z").Add(400*time.Millisecond)) {
		t.Error("a firing 400ms late is not nominal")
	}
}

// oracleFires computes calendar-kind fires in a deliberately naive way, independent of the
// package's day arithmetic and DST resolution: dates via time.Date, each fire as the first
// instant, scanning minute by minute, whose local wall clock reaches the cadence time.
func oracleFires(spec Spec, fromDate, toDate time.Time) []time.Time {
	loc, _ := time.LoadLocation(spec.Timezone)
	holiday := map[string]bool{}
	for _, h := range spec.Holidays {
		holiday[h] = true
	}
	business := func(d time.Time) bool {
		wd := d.Weekday()
		return wd != time.Saturday && wd != time.Sunday && !holiday[d.Format("2006-01-02")]
	}
	var dates []time.Time
	for d := fromDate; !d.After(toDate); d = d.AddDate(0, 0, 1) {
		c := spec.Cadence
		switch c.Kind {
		case Daily, Weekly:
			if c.Kind == Weekly && !slices.Contains(c.Days, dayNames[d.Weekday()]) {
				continue
			}
			if spec.BusinessDaysOnly && !business(d) {
				continue
			}
			dates = append(dates, d)
		case Monthly, Quarterly:
			if d.Day() != 1 || (c.Kind == Quarterly && (d.Month()-1)%3 != 0) {
				continue
			}
			last := d.AddDate(0, 1, -1)
			var pickDay time.Time
			if c.LastBusinessDay {
				for x := last; x.Month() == d.Month(); x = x.AddDate(0, 0, -1) {
					if business(x) {
						pickDay = x
						break
					}
				}
			} else {
				target := d.AddDate(0, 0, min(c.DayOfMonth, last.Day())-1)
				pickDay = target
				if spec.BusinessDaysOnly && !business(target) {
					pickDay = time.Time{}
					for x := target; x.Month() == d.Month(); x = x.AddDate(0, 0, -1) {
						if business(x) {
							pickDay = x
							break
						}
					}
					for x := target; pickDay.IsZero() && x.Month() == d.Month(); x = x.AddDate(0, 0, 1) {
						if business(x) {
							pickDay = x
						}
					}
				}
			}
			if !pickDay.IsZero() {
				dates = append(dates, pickDay)
			}
		}
	}
	hh, mm := int(spec.Cadence.Time[0]-'0')*10+int(spec.Cadence.Time[1]-'0'), int(spec.Cadence.Time[3]-'0')*10+int(spec.Cadence.Time[4]-'0')
	var out []time.Time
	for _, d := range dates {
		target := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, time.UTC)
		for t := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc).Add(-3 * time.Hour); ; t = t.Add(time.Minute) {
			lt := t.In(loc)
			if !time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), 0, 0, time.UTC).Before(target) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

func TestNextFireMatchesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	checked := 0
	for checked < 60 {
		spec := randomSpec(r)
		if spec.Cadence.Kind == Cron || spec.Cadence.Kind == Rate {
			continue
		}
		spec.StartDate, spec.EndDate = "2026-01-01", "2027-12-31"
		checked++
		loc, _ := location(spec.Timezone)
		want := oracleFires(spec, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC))
		got := fires(t, spec, time.Date(2025, 12, 1, 0, 0, 0, 0, loc), time.Date(2028, 2, 1, 0, 0, 0, 0, loc))
		if !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("%+v: %d fires, oracle %d", spec, len(got), len(want))
			for i := range min(len(got), len(want)) {
				if !got[i].Equal(want[i]) {
					t.Errorf("first difference at %d: got %s, oracle %s", i, got[i].In(loc), want[i].In(loc))
					break
				}
			}
		}
	}
}
