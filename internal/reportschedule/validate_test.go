package reportschedule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

func TestValidate(t *testing.T) {
	now := utc(t, "2026-06-01T00:00:00Z")
	limits := Limits{Now: now}
	base := func() Spec { return daily("Europe/Berlin", "09:00") }
	with := func(edit func(*Spec)) Spec {
		s := base()
		edit(&s)
		return s
	}
	weeklyDays := func(days ...string) func(*Spec) {
		return func(s *Spec) { s.Cadence = Cadence{Kind: Weekly, Time: "09:00", Days: days} }
	}
	expr := func(kind CadenceKind, e string) func(*Spec) {
		return func(s *Spec) { s.Cadence = Cadence{Kind: kind, Expression: e} }
	}
	windows := func(w ...BlackoutWindow) func(*Spec) { return func(s *Spec) { s.BlackoutWindows = w } }
	retry := func(p RetryPolicy) func(*Spec) { return func(s *Spec) { s.RetryPolicy = &p } }
	everyDay := []string{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}
	for _, tc := range []struct {
		name   string
		spec   Spec
		limits *Limits
		field  string // "" = valid
		code   string // default invalid_field
	}{
		{"valid daily", base(), nil, "", ""},
		{"valid with everything", with(func(s *Spec) {
			s.BusinessDaysOnly, s.Holidays, s.StartDate, s.EndDate = true, []string{"2026-12-25", "2026-12-24"}, "2026-01-01", "2027-12-31"
			s.BlackoutWindows = []BlackoutWindow{weeklyWindow("w", BehaviorDefer, "22:00", "06:00", "FRI")}
			s.RetryPolicy, s.CatchUp, s.DataWindow = &RetryPolicy{MaxAttempts: 10, Backoff: BackoffLinear, BaseSeconds: 5, CapSeconds: 50}, SkipMissed, DataWindowSpec{Kind: LastHours, Hours: 48}
		}), nil, "", ""},
		{"timezone required", with(func(s *Spec) { s.Timezone = "" }), nil, "timezone", ""},
		{"unknown timezone", with(func(s *Spec) { s.Timezone = "SECRET/Zone" }), nil, "timezone", ""},
		{"Local is not a zone", with(func(s *Spec) { s.Timezone = "Local" }), nil, "timezone", ""},
		{"kind required", with(func(s *Spec) { s.Cadence.Kind = "" }), nil, "cadence.kind", ""},
		{"unknown kind", with(func(s *Spec) { s.Cadence.Kind = "hourly" }), nil, "cadence.kind", ""},
		{"time out of range", with(func(s *Spec) { s.Cadence.Time = "24:00" }), nil, "cadence.time", ""},
		{"time malformed", with(func(s *Spec) { s.Cadence.Time = "9:00" }), nil, "cadence.time", ""},
		{"bad day name", with(weeklyDays("MON", "FUNDAY")), nil, "cadence.days[1]", ""},
		{"lower-case day name", with(weeklyDays("mon")), nil, "cadence.days[0]", ""},
		{"weekly without days", with(weeklyDays()), nil, "cadence.days", ""},
		{"days on a daily cadence", with(func(s *Spec) { s.Cadence.Days = []string{"MON"} }), nil, "cadence.days", ""},
		{"day of month too large", with(func(s *Spec) { s.Cadence = Cadence{Kind: Monthly, Time: "09:00", DayOfMonth: 32} }), nil, "cadence.day_of_month", ""},
		{"day of month missing", with(func(s *Spec) { s.Cadence = Cadence{Kind: Quarterly, Time: "09:00"} }), nil, "cadence.day_of_month", ""},
		{"day of month and last business day", with(func(s *Spec) {
			s.Cadence = Cadence{Kind: Monthly, Time: "09:00", DayOfMonth: 3, LastBusinessDay: true}
		}), nil, "cadence.day_of_month", ""},
		{"last business day on daily", with(func(s *Spec) { s.Cadence.LastBusinessDay = true }), nil, "cadence.last_business_day", ""},
		{"expression on daily", with(func(s *Spec) { s.Cadence.Expression = "rate(1 day)" }), nil, "cadence.expression", ""},
		{"time on cron", with(func(s *Spec) { s.Cadence = Cadence{Kind: Cron, Expression: "cron(0 9 * * ? *)", Time: "09:00"} }), nil, "cadence.time", ""},
		{"invalid cron", with(expr(Cron, "cron(0 9 * * * *)")), nil, "cadence.expression", ""},
		{"invalid rate", with(expr(Rate, "rate(0 minutes)")), nil, "cadence.expression", ""},
		{"rate under cron kind", with(expr(Cron, "rate(1 day)")), nil, "cadence.expression", ""},
		{"at() is not recurring", with(expr(Cron, "at(2026-07-01T00:00:00)")), nil, "cadence.expression", ""},
		{"valid cron", with(expr(Cron, "cron(0 9 ? * MON-FRI *)")), nil, "", ""},
		{"rate under min interval", with(expr(Rate, "rate(1 minute)")), nil, "cadence", ""},
		{"cron every minute under min interval", with(expr(Cron, "cron(* * * * ? *)")), nil, "cadence", ""},
		{"cron with one close pair a year", with(expr(Cron, "cron(0,5 9 1 JAN ? *)")), nil, "cadence", ""},
		{"half-hourly under 1h", with(expr(Cron, "cron(0/30 * * * ? *)")), nil, "cadence", ""},
		{"half-hourly under a 30m limit", with(expr(Cron, "cron(0/30 * * * ? *)")), &Limits{Now: now, MinInterval: 30 * time.Minute}, "", ""},
		{"hourly rate at the limit", with(expr(Rate, "rate(1 hour)")), nil, "", ""},
		{"malformed start date", with(func(s *Spec) { s.StartDate = "2026-02-30" }), nil, "start_date", ""},
		{"end before start", with(func(s *Spec) { s.StartDate, s.EndDate = "2026-07-02", "2026-07-01" }), nil, "end_date", ""},
		{"end equal to start", with(func(s *Spec) { s.StartDate, s.EndDate = "2026-07-01", "2026-07-01" }), nil, "", ""},
		{"bad holiday", with(func(s *Spec) { s.Holidays = []string{"2026-01-01", "2026-13-01"} }), nil, "holidays[1]", ""},
		{"too many holidays", with(func(s *Spec) { s.Holidays = []string{"2026-01-01", "2026-01-02"} }), &Limits{Now: now, MaxHolidays: 1}, "holidays", ""},
		{"too many blackout windows", with(windows(
			absolute("a", BehaviorSkip, "2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"),
			absolute("b", BehaviorSkip, "2026-08-01T00:00:00Z", "2026-08-02T00:00:00Z"),
			absolute("c", BehaviorSkip, "2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z"))), &Limits{Now: now, MaxBlackoutWindows: 2}, "blackout_windows", ""},
		{"window ends before it starts", with(windows(
			absolute("a", BehaviorSkip, "2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"),
			absolute("b", BehaviorSkip, "2026-08-02T00:00:00Z", "2026-08-01T00:00:00Z"))), nil, "blackout_windows[1].ends_at", ""},
		{"window start not RFC 3339", with(windows(absolute("a", BehaviorSkip, "2026-07-01 00:00", "2026-07-02T00:00:00Z"))), nil, "blackout_windows[0].starts_at", ""},
		{"window ref missing", with(windows(absolute("", BehaviorSkip, "2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"))), nil, "blackout_windows[0].window_ref", ""},
		{"window ref repeated", with(windows(
			absolute("a", BehaviorSkip, "2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"),
			weeklyWindow("a", BehaviorSkip, "01:00", "02:00", "MON"))), nil, "blackout_windows[1].window_ref", ""},
		{"window behavior", with(windows(absolute("a", "ignore", "2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"))), nil, "blackout_windows[0].behavior", ""},
		{"window kind", with(windows(BlackoutWindow{WindowRef: "a", Kind: "monthly", Behavior: BehaviorSkip})), nil, "blackout_windows[0].kind", ""},
		{"weekly window bad day", with(windows(weeklyWindow("a", BehaviorSkip, "01:00", "02:00", "MON", "XYZ"))), nil, "blackout_windows[0].days[1]", ""},
		{"weekly window empty", with(windows(weeklyWindow("a", BehaviorSkip, "01:00", "01:00", "MON"))), nil, "blackout_windows[0].end", ""},
		{"weekly window with instants", with(windows(BlackoutWindow{WindowRef: "a", Kind: WeeklyWindow, Days: []string{"MON"}, Start: "01:00", End: "02:00", StartsAt: "2026-07-01T00:00:00Z", Behavior: BehaviorSkip})), nil, "blackout_windows[0].starts_at", ""},
		{"retry attempts", with(retry(RetryPolicy{MaxAttempts: 11})), nil, "retry_policy.max_attempts", ""},
		{"retry backoff", with(retry(RetryPolicy{MaxAttempts: 1, Backoff: "fibonacci"})), nil, "retry_policy.backoff", ""},
		{"retry cap under base", with(retry(RetryPolicy{MaxAttempts: 1, BaseSeconds: 600, CapSeconds: 60})), nil, "retry_policy.cap_seconds", ""},
		{"retry base too large", with(retry(RetryPolicy{MaxAttempts: 1, BaseSeconds: 100000})), nil, "retry_policy.base_seconds", ""},
		{"catch-up policy", with(func(s *Spec) { s.CatchUp = "run_all" }), nil, "catch_up", ""},
		{"data window kind", with(func(s *Spec) { s.DataWindow.Kind = "previous_year" }), nil, "data_window.kind", ""},
		{"data window hours missing", with(func(s *Spec) { s.DataWindow.Kind = LastHours }), nil, "data_window.hours", ""},
		{"data window hours on a calendar kind", with(func(s *Spec) { s.DataWindow = DataWindowSpec{Kind: PreviousDay, Hours: 3} }), nil, "data_window.hours", ""},
		{"never fires: every fire skipped", with(windows(weeklyWindow("always", BehaviorSkip, "00:00", "24:00", everyDay...))), nil, "blackout_windows", "never_fires"},
		{"never fires: deferred forever", with(windows(weeklyWindow("always", BehaviorDefer, "00:00", "24:00", everyDay...))), nil, "blackout_windows", "never_fires"},
		{"never fires: absolute windows over the horizon", with(windows(
			absolute("y1", BehaviorSkip, "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
			absolute("y2", BehaviorSkip, "2027-05-01T00:00:00Z", "2028-05-01T00:00:00Z"))), nil, "blackout_windows", "never_fires"},
		{"approval windows still fire", with(windows(weeklyWindow("always", BehaviorRequireApproval, "00:00", "24:00", everyDay...))), nil, "", ""},
		{"a skip window with a gap fires", with(windows(weeklyWindow("weekdays", BehaviorSkip, "00:00", "24:00", "MON", "TUE", "WED", "THU", "FRI"))), nil, "", ""},
		{"never fires: Saturdays on business days only", with(func(s *Spec) {
			weeklyDays("SAT")(s)
			s.BusinessDaysOnly = true
		}), nil, "cadence", "never_fires"},
		{"never fires: end already past", with(func(s *Spec) { s.EndDate = "2025-12-31" }), nil, "end_date", "never_fires"},
		{"never fires: cron years past", with(expr(Cron, "cron(0 9 1 JAN ? 2020)")), nil, "cadence", "never_fires"},
		{"start beyond the horizon still checked from start", with(func(s *Spec) { s.StartDate = "2030-01-01" }), nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := limits
			if tc.limits != nil {
				l = *tc.limits
			}
			err := Validate(tc.spec, l)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			p, ok := problem.As(err)
			if !ok {
				t.Fatalf("got %v, want a *problem.Error for %s", err, tc.field)
			}
			code := tc.code
			if code == "" {
				code = "invalid_field"
			}
			if p.Field != tc.field || p.Code != code || p.Kind != problem.Invalid {
				t.Fatalf("got %s/%s (%s), want %s/%s", p.Field, p.Code, p.Message, tc.field, code)
			}
			for _, secret := range []string{"SECRET", "FUNDAY", "0 9 * * * *", "0 minutes", "2026-13", "fibonacci", "run_all"} {
				if strings.Contains(p.Message, secret) {
					t.Fatalf("message echoes input: %q", p.Message)
				}
			}
		})
	}
}

func TestNormalizeDefaults(t *testing.T) {
	n := Normalize(Spec{Timezone: "UTC", Cadence: Cadence{Kind: Weekly, Time: "09:00", Days: []string{"FRI", "MON", "FRI"}},
		Holidays: []string{"2026-12-25", "2026-01-01", "2026-12-25"}, BlackoutWindows: []BlackoutWindow{{WindowRef: "w"}}})
	if n.RetryPolicy == nil || *n.RetryPolicy != DefaultRetryPolicy() {
		t.Errorf("retry default: %+v", n.RetryPolicy)
	}
	if n.CatchUp != RunLatestOnce || n.DataWindow.Kind != PreviousWeek || n.BlackoutWindows[0].Behavior != BehaviorDefer {
		t.Errorf("defaults: %+v", n)
	}
	if strings.Join(n.Cadence.Days, ",") != "MON,FRI" || strings.Join(n.Holidays, ",") != "2026-01-01,2026-12-25" {
		t.Errorf("canonical lists: %v %v", n.Cadence.Days, n.Holidays)
	}
	partial := Normalize(Spec{RetryPolicy: &RetryPolicy{MaxAttempts: 0, BaseSeconds: 7200}})
	if want := (RetryPolicy{MaxAttempts: 0, Backoff: BackoffExponential, BaseSeconds: 7200, CapSeconds: 7200}); *partial.RetryPolicy != want {
		t.Errorf("partial retry: %+v", *partial.RetryPolicy)
	}
}

func TestDigest(t *testing.T) {
	a := Spec{Timezone: "Europe/Berlin", Cadence: Cadence{Kind: Weekly, Time: "09:00", Days: []string{"MON", "FRI"}}, Holidays: []string{"2026-01-01", "2026-12-25"}}
	same := a
	same.Cadence.Days = []string{"FRI", "MON"}
	same.Holidays = []string{"2026-12-25", "2026-01-01"}
	same.RetryPolicy = &RetryPolicy{MaxAttempts: 3, Backoff: BackoffExponential, BaseSeconds: 60, CapSeconds: 3600}
	changed := a
	changed.Cadence.Time = "09:01"
	d := Digest(a)
	if !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		t.Fatalf("digest form: %q", d)
	}
	if Digest(same) != d {
		t.Error("equivalent specs digest differently")
	}
	if Digest(changed) == d {
		t.Error("a changed time keeps the digest")
	}
	// The digest is over the JSON the API sees, so decoding a spec keeps it.
	raw, _ := json.Marshal(a)
	var back Spec
	if err := json.Unmarshal(raw, &back); err != nil || Digest(back) != d {
		t.Errorf("round trip changes the digest: %v", err)
	}
}

func TestSpecJSONNames(t *testing.T) {
	doc := `{"timezone":"America/New_York","cadence":{"kind":"monthly","time":"08:00","last_business_day":true},
	"business_days_only":true,"holidays":["2026-12-31"],"start_date":"2026-01-01","end_date":"2027-01-01",
	"blackout_windows":[{"window_ref":"freeze","kind":"weekly","days":["FRI"],"start":"22:00","end":"06:00","behavior":"skip"}],
	"retry_policy":{"max_attempts":2,"backoff":"linear","base_seconds":30,"cap_seconds":90},
	"catch_up":"skip_missed","data_window":{"kind":"last_hours","hours":12}}`
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if err := Validate(s, Limits{Now: utc(t, "2026-06-01T00:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	if !s.Cadence.LastBusinessDay || s.BlackoutWindows[0].Behavior != BehaviorSkip || s.RetryPolicy.CapSeconds != 90 || s.DataWindow.Hours != 12 {
		t.Fatalf("decoded %+v", s)
	}
}
