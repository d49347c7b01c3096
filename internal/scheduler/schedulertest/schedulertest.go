// Package schedulertest is the contract suite every scheduler.Scheduler adapter passes
// unchanged. Every subtest works in groups of its own, so it can share an emulator with
// other tests without a reset.
package schedulertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// New returns the scheduler under test.
type New func(t *testing.T) scheduler.Scheduler

// Run runs the contract suite.
func Run(t *testing.T, newScheduler New) {
	for name, test := range map[string]func(*testing.T, scheduler.Scheduler){
		"CRUD":            testCRUD,
		"DuplicateCreate": testDuplicate,
		"Missing":         testMissing,
		"Invalid":         testInvalid,
		"GroupsIsolate":   testGroupsIsolate,
	} {
		t.Run(name, func(t *testing.T) { test(t, newScheduler(t)) })
	}
}

// Group returns a tenant group name no other test uses.
func Group(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "tenant-" + hex.EncodeToString(b)
}

// future is a second-precision time far enough ahead that no emulator fires it meanwhile.
func future(d time.Duration) time.Time {
	return time.Now().UTC().Add(30 * 24 * time.Hour).Add(d).Truncate(time.Second)
}

func samples(group string) []scheduler.Schedule {
	return []scheduler.Schedule{
		{Group: group, Name: "daily-digest", Expression: "cron(0 9 ? * MON-FRI *)", Timezone: "Europe/Berlin",
			Payload: []byte(`{"kind":"digest","report":"r-1"}`), Enabled: true},
		{Group: group, Name: "kpi.refresh", Expression: "rate(15 minutes)", Payload: []byte(`{"kind":"kpi"}`),
			Start: future(0), End: future(48 * time.Hour), Enabled: true},
		{Group: group, Name: "room_expiry", Expression: scheduler.OneShot(future(time.Hour)),
			Payload: []byte(`{"kind":"expire-room","room":"x"}`), Enabled: true},
		{Group: group, Name: "paused", Expression: "rate(1 day)", Enabled: false},
	}
}

func testCRUD(t *testing.T, s scheduler.Scheduler) {
	ctx := context.Background()
	group := Group(t)
	want := samples(group)
	for _, sc := range want {
		if err := s.Create(ctx, sc); err != nil {
			t.Fatalf("Create(%s): %v", sc.Name, err)
		}
	}
	for _, sc := range want {
		got, err := s.Get(ctx, group, sc.Name)
		if err != nil {
			t.Fatalf("Get(%s): %v", sc.Name, err)
		}
		same(t, "Get", got, sc)
	}
	list, err := s.List(ctx, group)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	// List is sorted by name: daily-digest, kpi.refresh, paused, room_expiry.
	if len(list) != len(want) {
		t.Fatalf("List returned %d schedules, want %d", len(list), len(want))
	}
	for i, j := range []int{0, 1, 3, 2} {
		same(t, "List", list[i], want[j])
	}

	upd := want[0]
	upd.Expression = "cron(30 7 1 * ? *)"
	upd.Timezone = ""
	upd.Payload = []byte(`{"kind":"digest","report":"r-2"}`)
	upd.Enabled = false
	if err := s.Update(ctx, upd); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, err := s.Get(ctx, group, upd.Name)
	if err != nil {
		t.Fatalf("Get after Update: %v", err)
	}
	same(t, "Get after Update", got, upd)

	if err := s.Delete(ctx, group, upd.Name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, group, upd.Name); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	list, err = s.List(ctx, group)
	if err != nil {
		t.Fatalf("List after Delete: %v", err)
	}
	if len(list) != len(want)-1 {
		t.Errorf("List after Delete has %d schedules, want %d", len(list), len(want)-1)
	}
	for _, sc := range list {
		if sc.Name == upd.Name {
			t.Errorf("List after Delete still shows %s", upd.Name)
		}
	}
}

func testDuplicate(t *testing.T, s scheduler.Scheduler) {
	ctx := context.Background()
	sc := samples(Group(t))[1]
	if err := s.Create(ctx, sc); err != nil {
		t.Fatalf("Create: %v", err)
	}
	dup := sc
	dup.Expression = "rate(1 hour)"
	if err := s.Create(ctx, dup); !errors.Is(err, scheduler.ErrExists) {
		t.Errorf("second Create = %v, want ErrExists", err)
	}
	got, err := s.Get(ctx, sc.Group, sc.Name)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	same(t, "Get after refused duplicate", got, sc)
}

func testMissing(t *testing.T, s scheduler.Scheduler) {
	ctx := context.Background()
	group := Group(t)
	existing := samples(group)[0]
	if err := s.Create(ctx, existing); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, g := range []string{group, Group(t)} { // missing name in a known group, and an unknown group
		missing := samples(g)[1]
		missing.Name = "no-such-schedule"
		if err := s.Update(ctx, missing); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("Update of missing in %s = %v, want ErrNotFound", g, err)
		}
		if err := s.Delete(ctx, g, missing.Name); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("Delete of missing in %s = %v, want ErrNotFound", g, err)
		}
		if _, err := s.Get(ctx, g, missing.Name); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("Get of missing in %s = %v, want ErrNotFound", g, err)
		}
	}
	list, err := s.List(ctx, Group(t))
	if err != nil || len(list) != 0 {
		t.Errorf("List of an unknown group = %v, %v; want empty, nil", list, err)
	}
}

func testInvalid(t *testing.T, s scheduler.Scheduler) {
	ctx := context.Background()
	group := Group(t)
	good := samples(group)[1]
	if err := s.Create(ctx, good); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, expr := range []string{"", "rate(0 minutes)", "rate(5 weeks)", "cron(0 9 * * MON *)",
		"cron(0 9 * * ?)", "cron(61 * * * ? *)", "at(2026-01-01 00:00:00)", "every day"} {
		bad := good
		bad.Name = "bad"
		bad.Expression = expr
		if err := s.Create(ctx, bad); !errors.Is(err, scheduler.ErrInvalid) {
			t.Errorf("Create with %q = %v, want ErrInvalid", expr, err)
		}
		bad.Name = good.Name
		if err := s.Update(ctx, bad); !errors.Is(err, scheduler.ErrInvalid) {
			t.Errorf("Update with %q = %v, want ErrInvalid", expr, err)
		}
	}
	for name, bad := range map[string]scheduler.Schedule{
		"timezone": {Group: group, Name: "tz", Expression: "rate(1 day)", Timezone: "Nowhere/Else"},
		"name":     {Group: group, Name: "a/b", Expression: "rate(1 day)"},
		"group":    {Group: "", Name: "x", Expression: "rate(1 day)"},
		"payload":  {Group: group, Name: "p", Expression: "rate(1 day)", Payload: []byte("{")},
	} {
		if err := s.Create(ctx, bad); !errors.Is(err, scheduler.ErrInvalid) {
			t.Errorf("Create with bad %s = %v, want ErrInvalid", name, err)
		}
	}
	got, err := s.Get(ctx, group, good.Name)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	same(t, "Get after refused updates", got, good)
}

func testGroupsIsolate(t *testing.T, s scheduler.Scheduler) {
	ctx := context.Background()
	a, b := Group(t), Group(t)
	sa, sb := samples(a)[0], samples(b)[1]
	sb.Name = sa.Name
	for _, sc := range []scheduler.Schedule{sa, sb} {
		if err := s.Create(ctx, sc); err != nil {
			t.Fatalf("Create in %s: %v", sc.Group, err)
		}
	}
	for _, sc := range []scheduler.Schedule{sa, sb} {
		got, err := s.Get(ctx, sc.Group, sc.Name)
		if err != nil {
			t.Fatalf("Get in %s: %v", sc.Group, err)
		}
		same(t, "Get in "+sc.Group, got, sc)
		list, err := s.List(ctx, sc.Group)
		if err != nil {
			t.Fatalf("List %s: %v", sc.Group, err)
		}
		if len(list) != 1 {
			t.Fatalf("List %s has %d schedules, want 1", sc.Group, len(list))
		}
		same(t, "List "+sc.Group, list[0], sc)
	}
	if err := s.Delete(ctx, a, sa.Name); err != nil {
		t.Fatalf("Delete in %s: %v", a, err)
	}
	if _, err := s.Get(ctx, b, sb.Name); err != nil {
		t.Errorf("Delete in %s removed the schedule of %s: %v", a, b, err)
	}
}

// same compares schedules field by field; payloads as JSON values, times as instants.
func same(t *testing.T, what string, got, want scheduler.Schedule) {
	t.Helper()
	if got.Group != want.Group || got.Name != want.Name || got.Expression != want.Expression ||
		got.Timezone != want.Timezone || got.Enabled != want.Enabled ||
		!got.Start.Equal(want.Start) || !got.End.Equal(want.End) || !sameJSON(got.Payload, want.Payload) {
		t.Errorf("%s:\n got %+v (payload %s)\nwant %+v (payload %s)", what, got, got.Payload, want, want.Payload)
	}
}

func sameJSON(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
