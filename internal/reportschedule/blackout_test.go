package reportschedule

import (
	"encoding/json"
	"testing"
	"time"
)

func absolute(ref string, b Behavior, from, to string) BlackoutWindow {
	return BlackoutWindow{WindowRef: ref, Kind: AbsoluteWindow, StartsAt: from, EndsAt: to, Behavior: b}
}

func weeklyWindow(ref string, b Behavior, start, end string, days ...string) BlackoutWindow {
	return BlackoutWindow{WindowRef: ref, Kind: WeeklyWindow, Days: days, Start: start, End: end, Behavior: b}
}

func TestEvaluate(t *testing.T) {
	spec := func(tz string, windows ...BlackoutWindow) Spec {
		s := daily(tz, "09:00")
		s.BlackoutWindows = windows
		return s
	}
	all := []string{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}
	for _, tc := range []struct {
		name   string
		spec   Spec
		fire   string
		action Action
		ref    string
		until  string
	}{
		{"no windows", spec("UTC"), "2026-06-01T09:00:00Z", ActionRun, "", ""},
		{"absolute defer to its end", spec("UTC", absolute("m1", BehaviorDefer, "2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z")), "2026-06-01T09:00:00Z", ActionDefer, "m1", "2026-06-01T12:00:00Z"},
		{"absolute skip", spec("UTC", absolute("m1", BehaviorSkip, "2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z")), "2026-06-01T09:00:00Z", ActionSkip, "m1", ""},
		{"absolute approval", spec("UTC", absolute("m1", BehaviorRequireApproval, "2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z")), "2026-06-01T09:00:00Z", ActionRequireApproval, "m1", ""},
		{"start is inside", spec("UTC", absolute("m1", BehaviorSkip, "2026-06-01T09:00:00Z", "2026-06-01T12:00:00Z")), "2026-06-01T09:00:00Z", ActionSkip, "m1", ""},
		{"end is outside", spec("UTC", absolute("m1", BehaviorSkip, "2026-06-01T06:00:00Z", "2026-06-01T09:00:00Z")), "2026-06-01T09:00:00Z", ActionRun, "", ""},
		{"absolute compares instants across offsets", spec("UTC", absolute("m1", BehaviorSkip, "2026-06-01T10:30:00+02:00", "2026-06-01T11:30:00+02:00")), "2026-06-01T09:00:00Z", ActionSkip, "m1", ""},
		{"defer chains through the next window", spec("UTC",
			absolute("a", BehaviorDefer, "2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z"),
			absolute("b", BehaviorDefer, "2026-06-01T11:00:00Z", "2026-06-01T14:00:00Z")), "2026-06-01T09:00:00Z", ActionDefer, "a", "2026-06-01T14:00:00Z"},
		{"defer landing in a skip window skips", spec("UTC",
			absolute("a", BehaviorDefer, "2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z"),
			absolute("b", BehaviorSkip, "2026-06-01T12:00:00Z", "2026-06-01T13:00:00Z")), "2026-06-01T09:00:00Z", ActionSkip, "b", ""},
		{"defer landing in an approval window", spec("UTC",
			absolute("a", BehaviorDefer, "2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z"),
			absolute("b", BehaviorRequireApproval, "2026-06-01T11:00:00Z", "2026-06-01T13:00:00Z")), "2026-06-01T09:00:00Z", ActionRequireApproval, "b", "2026-06-01T12:00:00Z"},
		{"strictest overlapping window wins", spec("UTC",
			absolute("a", BehaviorDefer, "2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z"),
			absolute("b", BehaviorRequireApproval, "2026-06-01T08:00:00Z", "2026-06-01T10:00:00Z"),
			absolute("c", BehaviorSkip, "2026-06-01T08:30:00Z", "2026-06-01T09:30:00Z")), "2026-06-01T09:00:00Z", ActionSkip, "c", ""},
		// 2026-06-05 is a Friday; Berlin is UTC+2 in June.
		{"weekly wrapping midnight, before midnight", spec("Europe/Berlin", weeklyWindow("night", BehaviorDefer, "22:00", "06:00", "FRI")), "2026-06-05T21:00:00Z", ActionDefer, "night", "2026-06-06T04:00:00Z"},
		{"weekly wrapping midnight, after midnight", spec("Europe/Berlin", weeklyWindow("night", BehaviorDefer, "22:00", "06:00", "FRI")), "2026-06-06T00:00:00Z", ActionDefer, "night", "2026-06-06T04:00:00Z"},
		{"weekly wrapping midnight, next night not listed", spec("Europe/Berlin", weeklyWindow("night", BehaviorDefer, "22:00", "06:00", "FRI")), "2026-06-06T21:00:00Z", ActionRun, "", ""},
		{"weekly wrapping midnight, just before start", spec("Europe/Berlin", weeklyWindow("night", BehaviorSkip, "22:00", "06:00", "FRI")), "2026-06-05T19:59:00Z", ActionRun, "", ""},
		{"weekly skip in zone", spec("Europe/Berlin", weeklyWindow("freeze", BehaviorSkip, "08:00", "12:00", "MON", "FRI")), "2026-06-05T07:00:00Z", ActionSkip, "freeze", ""},
		{"weekly approval", spec("Europe/Berlin", weeklyWindow("freeze", BehaviorRequireApproval, "08:00", "12:00", "FRI")), "2026-06-05T07:00:00Z", ActionRequireApproval, "freeze", ""},
		{"weekly until 24:00", spec("UTC", weeklyWindow("eve", BehaviorDefer, "20:00", "24:00", "SUN")), "2026-06-07T21:00:00Z", ActionDefer, "eve", "2026-06-08T00:00:00Z"},
		{"weekly end inside a DST gap lands after it", spec("America/New_York", weeklyWindow("early", BehaviorDefer, "01:00", "02:30", "SUN")), "2026-03-08T06:30:00Z", ActionDefer, "early", "2026-03-08T07:00:00Z"},
		{"windows covering all time skip after a bounded chain", spec("UTC", weeklyWindow("always", BehaviorDefer, "00:00", "24:00", all...)), "2026-06-01T09:00:00Z", ActionSkip, "always", ""},
		{"invalid spec skips", daily("nowhere", "09:00"), "2026-06-01T09:00:00Z", ActionSkip, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.spec, utc(t, tc.fire))
			want := Decision{Action: tc.action, WindowRef: tc.ref}
			if tc.until != "" {
				want.Until = utc(t, tc.until)
			}
			if got.Action != want.Action || got.WindowRef != want.WindowRef || !got.Until.Equal(want.Until) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestEvaluateDeferLeavesEveryWindow(t *testing.T) {
	spec := daily("Europe/Berlin", "09:00")
	spec.BlackoutWindows = []BlackoutWindow{
		weeklyWindow("w1", BehaviorDefer, "08:00", "10:00", "MON", "TUE"),
		weeklyWindow("w2", BehaviorDefer, "09:30", "11:00", "TUE"),
		absolute("a1", BehaviorDefer, "2026-06-02T08:30:00Z", "2026-06-02T09:30:00Z"),
	}
	p, _ := compile(&spec)
	for f, ok := NextFire(spec, utc(t, "2026-05-01T00:00:00Z")); ok && f.Before(utc(t, "2026-08-01T00:00:00Z")); f, ok = NextFire(spec, f) {
		d := Evaluate(spec, f)
		if d.Action == ActionDefer && (p.strictestAt(d.Until) != nil || !d.Until.After(f)) {
			t.Fatalf("fire %s deferred to %s, still inside a window", f, d.Until)
		}
	}
	if d := Evaluate(spec, utc(t, "2026-06-02T07:00:00Z")); !d.Until.Equal(utc(t, "2026-06-02T09:30:00Z")) {
		t.Fatalf("Tuesday 09:00 CEST: got %+v, want until 11:00 CEST", d)
	}
}

func TestDecisionJSON(t *testing.T) {
	for _, tc := range []struct {
		d    Decision
		want string
	}{
		{Decision{Action: ActionRun}, `{"action":"run"}`},
		{Decision{Action: ActionDefer, WindowRef: "w", Until: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}, `{"action":"defer","window_ref":"w","until":"2026-06-01T12:00:00Z"}`},
	} {
		b, err := json.Marshal(tc.d)
		if err != nil || string(b) != tc.want {
			t.Errorf("got %s (%v), want %s", b, err, tc.want)
		}
	}
}
