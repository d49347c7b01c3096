package localgate_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate/approvalgatetest"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/localgate"
)

func TestContract(t *testing.T) {
	approvalgatetest.Run(t, func(t *testing.T) approvalgate.Gate {
		e, err := localgate.New(clock.System{}, filepath.Join(t.TempDir(), "gates.json"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return e
	})
}

func TestContractInMemory(t *testing.T) {
	approvalgatetest.Run(t, func(t *testing.T) approvalgate.Gate {
		e, err := localgate.New(clock.System{}, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return e
	})
}

var t0 = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)

func status(t *testing.T, e *localgate.Engine, ref string) approvalgate.Status {
	t.Helper()
	st, err := e.Status(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return st.Status
}

func TestManualClockExpiry(t *testing.T) {
	ctx := context.Background()
	c := clock.NewManual(t0)
	path := filepath.Join(t.TempDir(), "gates.json")
	e, err := localgate.New(c, path)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, ref := range []string{"a", "b"} {
		if err := e.Open(ctx, ref, time.Hour, nil); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Hour - time.Second)
	if n, err := e.Expire(ctx); n != 0 || err != nil {
		t.Fatalf("Expire before the deadline = %d, %v", n, err)
	}
	if err := e.Decide(ctx, "a", true, nil); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	if n, err := e.Expire(ctx); n != 1 || err != nil {
		t.Fatalf("Expire at the deadline = %d, %v; want 1", n, err)
	}
	if s := status(t, e, "b"); s != approvalgate.Expired {
		t.Errorf("b is %s, want expired", s)
	}
	if s := status(t, e, "a"); s != approvalgate.Approved {
		t.Errorf("a is %s, want approved (decided before the deadline)", s)
	}
	if err := e.Decide(ctx, "b", true, nil); !errors.Is(err, approvalgate.ErrExpired) {
		t.Errorf("Decide after expiry = %v, want ErrExpired", err)
	}
}

// Without Expire being called, a read after the deadline still sees the gate expired.
func TestExpiryIsReadFromTheClock(t *testing.T) {
	ctx := context.Background()
	c := clock.NewManual(t0)
	e, err := localgate.New(c, "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Open(ctx, "g", time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := e.Decide(ctx, "g", true, nil); !errors.Is(err, approvalgate.ErrExpired) {
		t.Errorf("Decide at the deadline = %v, want ErrExpired", err)
	}
}

func TestSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	c := clock.NewManual(t0)
	path := filepath.Join(t.TempDir(), "gates.json")
	e, err := localgate.New(c, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"pending", "approved", "expiring"} {
		timeout := time.Hour
		if ref == "expiring" {
			timeout = time.Minute
		}
		if err := e.Open(ctx, ref, timeout, []byte(`{"x":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Decide(ctx, "approved", true, []byte(`{"by":"a"}`)); err != nil {
		t.Fatal(err)
	}
	e.Close()

	c.Advance(2 * time.Minute)
	again, err := localgate.New(c, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	want := map[string]approvalgate.Status{"pending": approvalgate.Pending, "approved": approvalgate.Approved, "expiring": approvalgate.Expired}
	for ref, s := range want {
		if got := status(t, again, ref); got != s {
			t.Errorf("%s after restart is %s, want %s", ref, got, s)
		}
	}
	st, _ := again.Status(ctx, "approved")
	if string(st.Output) != `{"by":"a"}` {
		t.Errorf("output after restart %s", st.Output)
	}
	if err := again.Open(ctx, "pending", time.Hour, nil); !errors.Is(err, approvalgate.ErrExists) {
		t.Errorf("Open of a reloaded gate = %v, want ErrExists", err)
	}
}

// With the real clock, the timer writes the expiry down without anyone asking.
func TestTimerExpiresWithRealClock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gates.json")
	e, err := localgate.New(clock.System{}, path)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Open(ctx, "g", time.Second, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	// A second engine reads only the file: the expiry must already be in it.
	frozen := clock.NewManual(time.Now().Add(-time.Hour))
	reader, err := localgate.New(frozen, path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if s := status(t, reader, "g"); s != approvalgate.Expired {
		t.Errorf("file says %s, want expired", s)
	}
}
