package reportschedule

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

func TestCandidateExpression(t *testing.T) {
	bdo := func(s Spec, holidays ...string) Spec {
		s.BusinessDaysOnly, s.Holidays = true, holidays
		return s
	}
	lastBD := Spec{Timezone: "UTC", Cadence: Cadence{Kind: Monthly, Time: "17:00", LastBusinessDay: true}}
	quarterly := Spec{Timezone: "UTC", Cadence: Cadence{Kind: Quarterly, Time: "09:00", DayOfMonth: 15}}
	weekly := Spec{Timezone: "UTC", Cadence: Cadence{Kind: Weekly, Time: "09:00", Days: []string{"SAT", "MON"}}}
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"daily", daily("UTC", "09:05"), "cron(5 9 * * ? *)"},
		{"daily business days", bdo(daily("UTC", "09:00")), "cron(0 9 ? * MON-FRI *)"},
		{"daily in a DST gap adds the landing time", daily("America/New_York", "02:30"), "cron(0,30 2,3 * * ? *)"},
		{"daily outside any gap", daily("America/New_York", "08:00"), "cron(0 8 * * ? *)"},
		{"monthly 31st", monthly("UTC", "09:00", 31), "cron(0 9 28-31 * ? *)"},
		{"monthly 10th", monthly("UTC", "09:00", 10), "cron(0 9 10 * ? *)"},
		{"monthly 15th business days", bdo(monthly("UTC", "09:00", 15)), "cron(0 9 6-15 * ? *)"},
		{"monthly 1st business days", bdo(monthly("UTC", "09:00", 1)), "cron(0 9 1-10 * ? *)"},
		{"last business day", lastBD, "cron(0 17 19-31 * ? *)"},
		{"last business day, holiday run", bdo(lastBD, "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"), "cron(0 17 19-31 * ? *)"},
		{"holidays beyond the margin widen it", bdo(monthly("UTC", "09:00", 15), "2026-06-05", "2026-06-08", "2026-06-09", "2026-06-10", "2026-06-11", "2026-06-12", "2026-06-15"), "cron(0 9 4,6-15 * ? *)"},
		{"the 31st with business days", bdo(monthly("UTC", "09:00", 31)), "cron(0 9 19-31 * ? *)"},
		{"quarterly", quarterly, "cron(0 9 15 1,4,7,10 ? *)"},
		{"quarterly business days", bdo(quarterly), "cron(0 9 6-15 1,4,7,10 ? *)"},
		{"weekly", weekly, "cron(0 9 ? * MON,SAT *)"},
		{"weekly business days", bdo(weekly), "cron(0 9 ? * MON *)"},
		{"cron is its own candidate", Spec{Timezone: "UTC", Cadence: Cadence{Kind: Cron, Expression: "cron(0 9 ? * MON-FRI *)"}}, "cron(0 9 ? * MON-FRI *)"},
		{"rate is its own candidate", Spec{Timezone: "UTC", Cadence: Cadence{Kind: Rate, Expression: "rate(6 hours)"}}, "rate(6 hours)"},
		{"invalid spec", daily("", "09:00"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CandidateExpression(tc.spec)
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if got != "" {
				if _, err := scheduler.ParseExpression(got); err != nil {
					t.Fatalf("candidate does not parse: %v", err)
				}
			}
		})
	}
}

// TestCandidateIsSuperset checks, over two years and many varied specs, that each nominal
// fire is also a firing of the candidate expression as the scheduler port evaluates it.
func TestCandidateIsSuperset(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	from, to := utc(t, "2026-01-01T00:00:00Z"), utc(t, "2028-01-01T00:00:00Z")
	total := 0
	for range 400 {
		spec := randomSpec(r)
		expr := CandidateExpression(spec)
		e, err := scheduler.ParseExpression(expr)
		if err != nil {
			t.Fatalf("%+v: candidate %q: %v", spec, expr, err)
		}
		loc, _ := scheduler.Location(spec.Timezone)
		anchor, _ := RateAnchor(spec)
		for _, f := range fires(t, spec, from, to) {
			total++
			if got, ok := e.Next(f.Add(-time.Second), anchor, loc); !ok || !got.Equal(f) {
				t.Fatalf("%+v: nominal fire %s is not a firing of %s (next firing %s)", spec, f.In(loc), expr, got.In(loc))
			}
		}
	}
	if total < 10000 {
		t.Fatalf("only %d fires checked; the sample is too thin", total)
	}
}

// TestCandidateToleratesLaterHolidays registers the candidate of a spec without holidays,
// then adds a holiday week (Christmas to New Year) to the tenant calendar: the fires of the
// updated spec must still be firings of the old candidate.
func TestCandidateToleratesLaterHolidays(t *testing.T) {
	week := []string{"2026-12-24", "2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"}
	for _, c := range []Cadence{
		{Kind: Monthly, Time: "09:00", LastBusinessDay: true},
		{Kind: Monthly, Time: "09:00", DayOfMonth: 31},
		{Kind: Monthly, Time: "09:00", DayOfMonth: 1},
		{Kind: Quarterly, Time: "09:00", DayOfMonth: 1},
		{Kind: Monthly, Time: "09:00", DayOfMonth: 30},
	} {
		before := Spec{Timezone: "Europe/London", Cadence: c, BusinessDaysOnly: true}
		e, err := scheduler.ParseExpression(CandidateExpression(before))
		if err != nil {
			t.Fatal(err)
		}
		after := before
		after.Holidays = week
		loc, _ := scheduler.Location(after.Timezone)
		for _, f := range fires(t, after, utc(t, "2026-11-01T00:00:00Z"), utc(t, "2027-03-01T00:00:00Z")) {
			if got, ok := e.Next(f.Add(-time.Second), time.Time{}, loc); !ok || !got.Equal(f) {
				t.Errorf("%+v: fire %s missed by the earlier candidate", c, f.In(loc))
			}
		}
	}
}
