package scheduler_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCronNext(t *testing.T) {
	for _, tc := range []struct {
		expr, tz, after, want string
	}{
		{"cron(0 9 ? * MON-FRI *)", "", "2026-01-02T10:00:00Z", "2026-01-05T09:00:00Z"},
		{"cron(0 9 ? * MON-FRI *)", "", "2026-01-05T08:59:59Z", "2026-01-05T09:00:00Z"},
		{"cron(0 9 ? * MON-FRI *)", "", "2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"},
		{"cron(0/15 * * * ? *)", "", "2026-01-01T10:07:00Z", "2026-01-01T10:15:00Z"},
		{"cron(10-40/15 * * * ? *)", "", "2026-01-01T10:26:00Z", "2026-01-01T10:40:00Z"},
		{"cron(10-40/15 * * * ? *)", "", "2026-01-01T10:41:00Z", "2026-01-01T11:10:00Z"},
		{"cron(0 0,12 * * ? *)", "", "2026-01-01T00:00:00Z", "2026-01-01T12:00:00Z"},
		{"cron(30 2 L * ? *)", "", "2026-02-01T00:00:00Z", "2026-02-28T02:30:00Z"},
		{"cron(30 2 L * ? *)", "", "2028-02-01T00:00:00Z", "2028-02-29T02:30:00Z"},
		{"cron(0 12 ? * 6#3 *)", "", "2026-01-01T00:00:00Z", "2026-01-16T12:00:00Z"},
		{"cron(0 0 ? * 2L *)", "", "2026-01-01T00:00:00Z", "2026-01-26T00:00:00Z"},
		{"cron(0 8 15W * ? *)", "", "2026-02-01T00:00:00Z", "2026-02-16T08:00:00Z"},
		{"cron(0 8 1W * ? *)", "", "2026-08-01T00:00:00Z", "2026-08-03T08:00:00Z"},
		{"cron(0 10 1 JAN ? 2027)", "", "2026-03-01T00:00:00Z", "2027-01-01T10:00:00Z"},
		{"cron(0 10 1 jan,Jul ? *)", "", "2026-03-01T00:00:00Z", "2026-07-01T10:00:00Z"},
		{"cron(0 9 * * ? *)", "Europe/Berlin", "2026-07-01T00:00:00Z", "2026-07-01T07:00:00Z"},
		{"cron(0 9 * * ? *)", "Europe/Berlin", "2026-01-01T00:00:00Z", "2026-01-01T08:00:00Z"},
		{"cron(0 9 * * ? *)", "Asia/Kolkata", "2026-01-01T00:00:00Z", "2026-01-01T03:30:00Z"},
		{"cron(59 23 31 DEC ? 2199)", "", "2026-01-01T00:00:00Z", "2199-12-31T23:59:00Z"},
	} {
		loc, err := scheduler.Location(tc.tz)
		if err != nil {
			t.Fatal(err)
		}
		e, err := scheduler.ParseExpression(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		got, ok := e.Next(mustTime(t, tc.after), time.Time{}, loc)
		if want := mustTime(t, tc.want); !ok || !got.Equal(want) {
			t.Errorf("%s in %q after %s = %s (ok %v), want %s", tc.expr, tc.tz, tc.after, got.UTC().Format(time.RFC3339), ok, tc.want)
		}
	}
}

func TestCronWithoutFutureMatch(t *testing.T) {
	e, err := scheduler.ParseExpression("cron(0 10 1 JAN ? 2020)")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := e.Next(mustTime(t, "2026-01-01T00:00:00Z"), time.Time{}, time.UTC); ok {
		t.Errorf("Next of a past-year cron = %s, want none", got)
	}
}

func TestRateAndAtNext(t *testing.T) {
	anchor := mustTime(t, "2026-01-01T10:00:00Z")
	rate, _ := scheduler.ParseExpression("rate(15 minutes)")
	for after, want := range map[string]string{
		"2026-01-01T09:00:00Z": "2026-01-01T10:15:00Z",
		"2026-01-01T10:00:00Z": "2026-01-01T10:15:00Z",
		"2026-01-01T10:31:00Z": "2026-01-01T10:45:00Z",
		"2026-01-01T10:45:00Z": "2026-01-01T11:00:00Z",
	} {
		if got, ok := rate.Next(mustTime(t, after), anchor, time.UTC); !ok || !got.Equal(mustTime(t, want)) {
			t.Errorf("rate after %s = %s, want %s", after, got, want)
		}
	}
	at, _ := scheduler.ParseExpression(scheduler.OneShot(mustTime(t, "2026-01-02T03:04:05Z")))
	if !at.OneShot() || rate.OneShot() {
		t.Fatal("OneShot() wrong")
	}
	berlin, _ := scheduler.Location("Europe/Berlin")
	if got, ok := at.Next(mustTime(t, "2026-01-01T00:00:00Z"), anchor, berlin); !ok || !got.Equal(mustTime(t, "2026-01-02T02:04:05Z")) {
		t.Errorf("at() in Berlin = %s, %v", got, ok)
	}
	if _, ok := at.Next(mustTime(t, "2026-01-03T00:00:00Z"), anchor, time.UTC); ok {
		t.Error("a past at() still has a next firing")
	}
}

func TestValidateExpressions(t *testing.T) {
	valid := []string{
		"rate(1 minute)", "rate(5 minutes)", "rate(2 hours)", "rate(1 day)", "rate(7 days)",
		"at(2026-01-02T03:04:05)",
		"cron(0 9 ? * MON-FRI *)", "cron(0/5 8-17 ? * MON,WED,FRI 2026-2030)", "cron(*/10 * * * ? *)",
		"cron(0 0 L * ? *)", "cron(0 0 ? * 6L *)", "cron(0 0 ? * 6#3 *)", "cron(0 0 15W * ? *)",
		"cron(15 10 ? * 6L 2026-2030)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
	}
	invalid := []string{
		"", "rate(0 minutes)", "rate(5 weeks)", "rate(-1 minutes)", "rate(5minutes)", "rate(1.5 hours)",
		"at(2026-13-01T00:00:00)", "at(2026-01-01 00:00:00)", "at(2026-01-01T00:00:00Z)",
		"cron(0 9 * * MON *)", "cron(0 9 ? * ? *)", "cron(0 9 * * ?)", "cron(0 9 * * ? * *)",
		"cron(60 * * * ? *)", "cron(0 24 * * ? *)", "cron(0 9 32 * ? *)", "cron(0 9 ? * 8 *)",
		"cron(0 9 ? * MON-FOO *)", "cron(5-1 * * * ? *)", "cron(*/0 * * * ? *)", "cron(0 9 ? * 2#6 *)",
		"cron(0 9 * 13 ? *)", "cron(0 9 * * ? 1969)", "cron(0 9 * * ? 2200)", "cron(a b c d e f)",
		"0 9 * * ? *", "cron(0 9 * * ? *", "cron(,0 9 * * ? *)",
	}
	base := scheduler.Schedule{Group: "tenant-a", Name: "n"}
	for _, e := range valid {
		s := base
		s.Expression = e
		if err := scheduler.Validate(s); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", e, err)
		}
	}
	for _, e := range invalid {
		s := base
		s.Expression = e
		if err := scheduler.Validate(s); !errors.Is(err, scheduler.ErrInvalid) {
			t.Errorf("Validate(%q) = %v, want ErrInvalid", e, err)
		}
	}
}

func TestValidateFields(t *testing.T) {
	ok := scheduler.Schedule{Group: "tenant-a", Name: "daily.digest_1", Expression: "rate(1 day)", Payload: []byte(`{"a":1}`)}
	if err := scheduler.Validate(ok); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, mutate := range map[string]func(*scheduler.Schedule){
		"empty group":   func(s *scheduler.Schedule) { s.Group = "" },
		"slash in name": func(s *scheduler.Schedule) { s.Name = "a/b" },
		"long name":     func(s *scheduler.Schedule) { s.Name = string(make([]byte, 65)) },
		"bad timezone":  func(s *scheduler.Schedule) { s.Timezone = "Mars/Olympus" },
		"local zone":    func(s *scheduler.Schedule) { s.Timezone = "Local" },
		"payload text":  func(s *scheduler.Schedule) { s.Payload = []byte("not json") },
		"payload large": func(s *scheduler.Schedule) { s.Payload = []byte(`"` + string(make([]byte, 9000)) + `"`) },
		"end <= start":  func(s *scheduler.Schedule) { s.Start, s.End = now, now },
	} {
		s := ok
		mutate(&s)
		if err := scheduler.Validate(s); !errors.Is(err, scheduler.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}
