package reportschedule

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// FuzzValidate feeds arbitrary JSON through Normalize and Validate and, for every spec,
// through the fire computations: nothing may panic or run unbounded, and a valid spec's
// fires must move forward and its candidate expression must parse.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{"timezone":"Europe/Berlin","cadence":{"kind":"daily","time":"02:30"}}`,
		`{"timezone":"America/New_York","cadence":{"kind":"monthly","time":"01:30","day_of_month":31},"business_days_only":true,"holidays":["2026-12-31","2027-01-29"]}`,
		`{"timezone":"UTC","cadence":{"kind":"quarterly","time":"09:00","last_business_day":true},"start_date":"2026-01-01","end_date":"2026-12-31"}`,
		`{"timezone":"Asia/Tokyo","cadence":{"kind":"weekly","time":"08:00","days":["MON","SAT"]},"blackout_windows":[{"window_ref":"n","kind":"weekly","days":["FRI"],"start":"22:00","end":"06:00","behavior":"defer"}]}`,
		`{"timezone":"UTC","cadence":{"kind":"cron","expression":"cron(0 9 ? * MON-FRI *)"},"blackout_windows":[{"window_ref":"a","kind":"absolute","starts_at":"2026-07-01T00:00:00Z","ends_at":"2026-07-02T00:00:00Z","behavior":"skip"}]}`,
		`{"timezone":"Australia/Lord_Howe","cadence":{"kind":"rate","expression":"rate(90 minutes)"},"retry_policy":{"max_attempts":10,"backoff":"exponential","base_seconds":1,"cap_seconds":604800},"catch_up":"skip_missed","data_window":{"kind":"last_hours","hours":8784}}`,
		`{"timezone":"UTC","cadence":{"kind":"daily","time":"09:00"},"blackout_windows":[{"window_ref":"x","kind":"weekly","days":["MON","TUE","WED","THU","FRI","SAT","SUN"],"start":"00:00","end":"24:00"}]}`,
		`{"timezone":"","cadence":{}}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, doc []byte) {
		var spec Spec
		if json.Unmarshal(doc, &spec) != nil {
			return
		}
		// Invalid specs must be harmless too: the runner may hold an old one.
		next, ok := NextFire(spec, now)
		Evaluate(spec, now)
		_ = Digest(spec)
		spec = Normalize(spec)
		if Validate(spec, Limits{Now: now}) != nil {
			return
		}
		if !ok || !next.After(now) {
			t.Fatalf("valid spec has no next fire (%v) or it is not ahead: %s", ok, next)
		}
		if !IsNominal(spec, next) {
			t.Fatalf("NextFire result %s is not nominal", next)
		}
		d := Evaluate(spec, next)
		if d.Action == ActionDefer && !d.Until.After(next) {
			t.Fatalf("defer does not move forward: %+v", d)
		}
		expr := CandidateExpression(spec)
		e, err := scheduler.ParseExpression(expr)
		if err != nil {
			t.Fatalf("candidate %q: %v", expr, err)
		}
		loc, _ := scheduler.Location(spec.Timezone)
		anchor, _ := RateAnchor(spec)
		if got, ok := e.Next(next.Add(-time.Second), anchor, loc); !ok || !got.Equal(next) {
			t.Fatalf("nominal %s is not a firing of %s", next, expr)
		}
		CatchUp(spec, now, next.Add(72*time.Hour))
		DataWindow(spec, next)
		RetryAt(*spec.RetryPolicy, 3, next)
	})
}
