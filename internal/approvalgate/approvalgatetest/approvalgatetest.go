// Package approvalgatetest is the contract suite every approvalgate.Gate adapter passes
// unchanged. Subtests use refs of their own and run in parallel. A decision may take a
// moment to show in Status (a Step Functions execution finishes asynchronously), so the
// suite waits for the settled state, but never for the decision's own result.
package approvalgatetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
)

// New returns the gate under test.
type New func(t *testing.T) approvalgate.Gate

// Settle is how long a decided or timed-out gate may take to show its final state.
const Settle = 15 * time.Second

const long = time.Hour

// Run runs the contract suite.
func Run(t *testing.T, newGate New) {
	for name, test := range map[string]func(*testing.T, approvalgate.Gate){
		"OpenPending":    testOpenPending,
		"Approve":        testApprove,
		"Deny":           testDeny,
		"EmptyOutput":    testEmptyOutput,
		"SecondDecision": testSecondDecision,
		"Race":           testRace,
		"Timeout":        testTimeout,
		"OpenExisting":   testOpenExisting,
		"Unknown":        testUnknown,
		"Invalid":        testInvalid,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newGate(t))
		})
	}
}

// Ref returns a ref no other test uses.
func Ref(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "t-" + hex.EncodeToString(b)
}

func open(t *testing.T, g approvalgate.Gate, timeout time.Duration) string {
	t.Helper()
	ref := Ref(t)
	if err := g.Open(context.Background(), ref, timeout, []byte(`{"package":"p-1","digest":"sha256:ab"}`)); err != nil {
		t.Fatalf("Open(%s): %v", ref, err)
	}
	return ref
}

// settled waits until the gate leaves pending and returns its state.
func settled(t *testing.T, g approvalgate.Gate, ref string) approvalgate.State {
	t.Helper()
	deadline := time.Now().Add(Settle)
	for {
		st, err := g.Status(context.Background(), ref)
		if err != nil {
			t.Fatalf("Status(%s): %v", ref, err)
		}
		if st.Status != approvalgate.Pending || time.Now().After(deadline) {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func expect(t *testing.T, st approvalgate.State, ref string, status approvalgate.Status, output string) {
	t.Helper()
	if st.Ref != ref || st.Status != status || !sameJSON(st.Output, []byte(output)) {
		t.Errorf("state = {%s %s %s}, want {%s %s %s}", st.Ref, st.Status, st.Output, ref, status, output)
	}
}

func testOpenPending(t *testing.T, g approvalgate.Gate) {
	ref := open(t, g, long)
	st, err := g.Status(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, st, ref, approvalgate.Pending, "")
}

func testApprove(t *testing.T, g approvalgate.Gate) {
	ref := open(t, g, long)
	out := `{"approver":"role:approver","note":"ok"}`
	if err := g.Decide(context.Background(), ref, true, []byte(out)); err != nil {
		t.Fatalf("Decide: %v", err)
	}
	expect(t, settled(t, g, ref), ref, approvalgate.Approved, out)
}

func testDeny(t *testing.T, g approvalgate.Gate) {
	ref := open(t, g, long)
	out := `{"reason":"recipient domain not allowed"}`
	if err := g.Decide(context.Background(), ref, false, []byte(out)); err != nil {
		t.Fatalf("Decide: %v", err)
	}
	expect(t, settled(t, g, ref), ref, approvalgate.Denied, out)
}

func testEmptyOutput(t *testing.T, g approvalgate.Gate) {
	ref := open(t, g, long)
	if err := g.Decide(context.Background(), ref, false, nil); err != nil {
		t.Fatalf("Decide: %v", err)
	}
	expect(t, settled(t, g, ref), ref, approvalgate.Denied, "")
}

func testSecondDecision(t *testing.T, g approvalgate.Gate) {
	ctx := context.Background()
	ref := open(t, g, long)
	if err := g.Decide(ctx, ref, true, []byte(`{"n":1}`)); err != nil {
		t.Fatalf("first Decide: %v", err)
	}
	for _, approve := range []bool{false, true} {
		if err := g.Decide(ctx, ref, approve, []byte(`{"n":2}`)); !errors.Is(err, approvalgate.ErrDecided) {
			t.Errorf("second Decide(approve=%v) = %v, want ErrDecided", approve, err)
		}
	}
	expect(t, settled(t, g, ref), ref, approvalgate.Approved, `{"n":1}`)
	if err := g.Decide(ctx, ref, false, nil); !errors.Is(err, approvalgate.ErrDecided) {
		t.Errorf("Decide after settling = %v, want ErrDecided", err)
	}
}

func testRace(t *testing.T, g approvalgate.Gate) {
	ref := open(t, g, long)
	const n = 100
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = g.Decide(context.Background(), ref, i%2 == 0, fmt.Appendf(nil, `{"i":%d}`, i))
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("decisions %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, approvalgate.ErrDecided):
			t.Errorf("losing decision %d = %v, want ErrDecided", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no decision won")
	}
	want := approvalgate.Denied
	if winner%2 == 0 {
		want = approvalgate.Approved
	}
	expect(t, settled(t, g, ref), ref, want, fmt.Sprintf(`{"i":%d}`, winner))
}

func testTimeout(t *testing.T, g approvalgate.Gate) {
	start := time.Now()
	ref := open(t, g, 2*time.Second)
	st, err := g.Status(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	// Only a gate still well inside its timeout must be pending (a loaded emulator can
	// make Open itself slow).
	if time.Since(start) < 1500*time.Millisecond {
		expect(t, st, ref, approvalgate.Pending, "")
	}
	time.Sleep(2*time.Second - time.Since(start))
	expect(t, settled(t, g, ref), ref, approvalgate.Expired, "")
	for _, approve := range []bool{true, false} {
		if err := g.Decide(context.Background(), ref, approve, nil); !errors.Is(err, approvalgate.ErrExpired) {
			t.Errorf("Decide(approve=%v) after expiry = %v, want ErrExpired", approve, err)
		}
	}
	expect(t, settled(t, g, ref), ref, approvalgate.Expired, "")
}

func testOpenExisting(t *testing.T, g approvalgate.Gate) {
	ctx := context.Background()
	ref := open(t, g, long)
	if err := g.Open(ctx, ref, long, nil); !errors.Is(err, approvalgate.ErrExists) {
		t.Errorf("Open of an open gate = %v, want ErrExists", err)
	}
	if err := g.Decide(ctx, ref, true, nil); err != nil {
		t.Fatal(err)
	}
	settled(t, g, ref)
	if err := g.Open(ctx, ref, long, nil); !errors.Is(err, approvalgate.ErrExists) {
		t.Errorf("Open of a decided gate = %v, want ErrExists", err)
	}
}

func testUnknown(t *testing.T, g approvalgate.Gate) {
	ref := Ref(t)
	if _, err := g.Status(context.Background(), ref); !errors.Is(err, approvalgate.ErrNotFound) {
		t.Errorf("Status of unknown = %v, want ErrNotFound", err)
	}
	if err := g.Decide(context.Background(), ref, true, nil); !errors.Is(err, approvalgate.ErrNotFound) {
		t.Errorf("Decide of unknown = %v, want ErrNotFound", err)
	}
}

func testInvalid(t *testing.T, g approvalgate.Gate) {
	ctx := context.Background()
	for _, ref := range []string{"", "has space", "a/b", "a.b", "é", strings.Repeat("x", 65)} {
		if err := g.Open(ctx, ref, long, nil); !errors.Is(err, approvalgate.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", ref, err)
		}
		if err := g.Decide(ctx, ref, true, nil); !errors.Is(err, approvalgate.ErrInvalid) {
			t.Errorf("Decide(%q) = %v, want ErrInvalid", ref, err)
		}
		if _, err := g.Status(ctx, ref); !errors.Is(err, approvalgate.ErrInvalid) {
			t.Errorf("Status(%q) = %v, want ErrInvalid", ref, err)
		}
	}
	for _, timeout := range []time.Duration{0, -time.Second, time.Millisecond, approvalgate.MaxTimeout + time.Second} {
		if err := g.Open(ctx, Ref(t), timeout, nil); !errors.Is(err, approvalgate.ErrInvalid) {
			t.Errorf("Open with timeout %s = %v, want ErrInvalid", timeout, err)
		}
	}
	if err := g.Open(ctx, Ref(t), long, []byte("not json")); !errors.Is(err, approvalgate.ErrInvalid) {
		t.Errorf("Open with non-JSON input = %v, want ErrInvalid", err)
	}
	ref := open(t, g, long)
	if err := g.Decide(ctx, ref, true, []byte("{")); !errors.Is(err, approvalgate.ErrInvalid) {
		t.Errorf("Decide with non-JSON output = %v, want ErrInvalid", err)
	}
	st, err := g.Status(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, st, ref, approvalgate.Pending, "")
	if err := g.Decide(ctx, ref, true, []byte(`"fine"`)); err != nil {
		t.Errorf("Decide after a refused one = %v", err)
	}
}

func sameJSON(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
