package sqlitestore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore/itemstoretest"
)

func open(t *testing.T, clk clock.Clock) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "items.db"), clk)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	itemstoretest.Run(t, func(t *testing.T) (itemstore.Store, itemstore.ChangeFeed) {
		s := open(t, clock.System{})
		return s, s
	})
}

func TestSweepExpiredRemovesAndRecords(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, clk)
	put := func(sk string, exp time.Time) {
		t.Helper()
		w := itemstore.Write{Item: itemstore.Item{PK: "T", SK: sk, ExpiresAt: exp, Data: []byte(`{}`)}}
		if _, err := s.Put(ctx, w); err != nil {
			t.Fatalf("Put %s: %v", sk, err)
		}
	}
	put("soon", clk.Now().Add(time.Minute))
	put("later", clk.Now().Add(time.Hour))
	put("never", time.Time{})
	_, start, err := s.ReadChanges(ctx, "", 100)
	if err != nil {
		t.Fatalf("ReadChanges: %v", err)
	}
	if n, err := s.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before expiry: removed %d, err %v", n, err)
	}

	clk.Advance(time.Minute) // "soon" expires exactly now
	if _, err := s.Get(ctx, "T", "soon"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Fatalf("Get at the expiry instant: err %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "T", "later"); err != nil {
		t.Fatalf("Get of a live item: %v", err)
	}
	if n, err := s.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: removed %d, err %v, want 1", n, err)
	}
	changes, _, err := s.ReadChanges(ctx, start, 100)
	if err != nil {
		t.Fatalf("ReadChanges: %v", err)
	}
	if len(changes) != 1 || changes[0].Kind != itemstore.Removed || changes[0].SK != "soon" || changes[0].Old == nil || changes[0].New != nil {
		t.Fatalf("sweep changes: %+v, want one REMOVE of soon with its old image", changes)
	}
	if !changes[0].At.Equal(clk.Now()) {
		t.Errorf("change At %v, want the store clock's %v", changes[0].At, clk.Now())
	}
	page, err := s.Query(ctx, itemstore.Query{PK: "T"})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("after sweep: %d items, err %v, want later and never", len(page.Items), err)
	}
}

func TestSweepExpiredManyBatches(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, clk)
	const n = 1234 // more than one sweep batch
	for i := 0; i < n; i += itemstore.MaxTransactWrites {
		var ws []itemstore.Write
		for j := i; j < min(i+itemstore.MaxTransactWrites, n); j++ {
			it := itemstore.Item{PK: "T", SK: time.Duration(j).String(), ExpiresAt: clk.Now().Add(time.Second), Data: []byte(`{}`)}
			ws = append(ws, itemstore.Write{Item: it})
		}
		if err := s.Transact(ctx, ws); err != nil {
			t.Fatalf("Transact: %v", err)
		}
	}
	clk.Advance(time.Hour)
	if removed, err := s.SweepExpired(ctx); err != nil || removed != n {
		t.Fatalf("sweep: removed %d, err %v, want %d", removed, err, n)
	}
}

func TestReopenKeepsItemsAndFeed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "items.db")
	s, err := sqlitestore.Open(ctx, path, clock.System{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := s.Put(ctx, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "R", Data: []byte(`{"a":1}`)}}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err = sqlitestore.Open(ctx, path, clock.System{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.Put(ctx, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "R", Data: []byte(`{"a":2}`)}, Cond: itemstore.IfVersion, ExpectVersion: 1})
	if err != nil || got.Version != 2 {
		t.Fatalf("IfVersion put after reopen: version %d, err %v", got.Version, err)
	}
	changes, _, err := s.ReadChanges(ctx, "", 10)
	if err != nil || len(changes) != 2 || changes[1].Seq != "2" {
		t.Fatalf("feed after reopen: %+v, err %v", changes, err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := sqlitestore.Open(context.Background(), ":memory:", clock.System{}); !errors.Is(err, itemstore.ErrInvalid) {
		t.Fatalf("Open(:memory:): err %v, want ErrInvalid", err)
	}
}

// TestTrimChangesDropsOnlyOldPassedEntries: entries behind the cursor and older than the
// bound go; newer ones, and any past the cursor, stay readable.
func TestTrimChangesDropsOnlyOldPassedEntries(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, clk)
	put := func(sk string) {
		t.Helper()
		if _, err := s.Put(ctx, itemstore.Write{Item: itemstore.Item{PK: "T", SK: sk, Data: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	put("a")
	put("b")
	clk.Advance(25 * time.Hour)
	put("c")
	put("d")
	changes, _, err := s.ReadChanges(ctx, "", 100)
	if err != nil || len(changes) != 4 {
		t.Fatalf("feed: %d changes, %v", len(changes), err)
	}
	through := changes[2].Seq // the consumer has read a, b and c
	n, err := s.TrimChanges(ctx, through, clk.Now().Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("trimmed %d, err %v; want a and b", n, err)
	}
	left, _, err := s.ReadChanges(ctx, "", 100)
	if err != nil || len(left) != 2 || left[0].SK != "c" || left[1].SK != "d" {
		t.Fatalf("left %+v, %v", left, err)
	}
	if _, err := s.TrimChanges(ctx, "x", clk.Now()); !errors.Is(err, itemstore.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}
