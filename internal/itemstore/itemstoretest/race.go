package itemstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

const racers = 50

// race runs fn in racers goroutines released together.
func race(fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func testRaceIfAbsent(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	var mu sync.Mutex
	var winners []itemstore.Item
	race(func(i int) {
		w := itemstore.Write{Item: item("T", "R", fmt.Sprintf(`{"g":%d}`, i)), Cond: itemstore.IfAbsent}
		got, err := s.Put(context.Background(), w)
		switch {
		case err == nil:
			mu.Lock()
			winners = append(winners, got)
			mu.Unlock()
		case !errors.Is(err, itemstore.ErrConflict):
			t.Errorf("racer %d: err %v, want nil or ErrConflict", i, err)
		}
	})
	if len(winners) != 1 {
		t.Fatalf("%d racers won an IfAbsent put, want exactly 1", len(winners))
	}
	assertItem(t, "after the race", mustGet(t, s, "T", "R"), winners[0])
}

type counter struct {
	N int `json:"n"`
}

func testRaceIfVersionIncrements(t *testing.T, s itemstore.Store, f itemstore.ChangeFeed) {
	ctx := context.Background()
	mustPut(t, s, itemstore.Write{Item: item("T", "counter", `{"n":0}`)})
	race(func(i int) {
		for attempt := 0; attempt < 20*racers; attempt++ {
			err := increment(ctx, s)
			if err == nil {
				return
			}
			if !errors.Is(err, itemstore.ErrConflict) {
				t.Errorf("racer %d: %v", i, err)
				return
			}
		}
		t.Errorf("racer %d never won its increment", i)
	})
	got := mustGet(t, s, "T", "counter")
	var c counter
	if err := json.Unmarshal(got.Data, &c); err != nil {
		t.Fatalf("decode counter %s: %v", got.Data, err)
	}
	if c.N != racers || got.Version != racers+1 {
		t.Fatalf("after %d increments: n=%d version=%d, want n=%d version=%d", racers, c.N, got.Version, racers, racers+1)
	}
	// Every successful increment, and nothing else, is on the feed, in version order.
	changes := waitChanges(t, f, "", racers+1).changes
	for i, ch := range changes {
		if ch.New == nil || ch.New.Version != int64(i+1) {
			t.Fatalf("change %d of the counter: %+v, want new version %d", i, ch, i+1)
		}
	}
}

// increment is the read-modify-write a domain package does: read, change, write IfVersion.
func increment(ctx context.Context, s itemstore.Store) error {
	cur, err := s.Get(ctx, "T", "counter")
	if err != nil {
		return err
	}
	var c counter
	if err := json.Unmarshal(cur.Data, &c); err != nil {
		return err
	}
	c.N++
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	w := itemstore.Write{Item: itemstore.Item{PK: "T", SK: "counter", Data: data}, Cond: itemstore.IfVersion, ExpectVersion: cur.Version}
	_, err = s.Put(ctx, w)
	return err
}

func testRaceAlwaysVersions(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	var mu sync.Mutex
	var versions []int
	race(func(i int) {
		got, err := s.Put(context.Background(), itemstore.Write{Item: item("T", "R", fmt.Sprintf(`{"g":%d}`, i))})
		if err != nil {
			t.Errorf("racer %d: unconditional put: %v", i, err)
			return
		}
		mu.Lock()
		versions = append(versions, int(got.Version))
		mu.Unlock()
	})
	// No lost update: each unconditional put got its own version, 1..racers.
	sort.Ints(versions)
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("versions returned by %d racing puts: %v, want 1..%d each once", racers, versions, racers)
		}
	}
	if got := mustGet(t, s, "T", "R"); got.Version != racers {
		t.Fatalf("final version %d, want %d", got.Version, racers)
	}
}

// testRaceTransactAlways races transactions whose unconditional puts share a key: none may
// fail, and no write may be lost.
func testRaceTransactAlways(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	race(func(i int) {
		writes := []itemstore.Write{put(item("T", "shared", `{}`)), put(item("T", key("own", i), `{}`))}
		if err := s.Transact(context.Background(), writes); err != nil {
			t.Errorf("racer %d: transaction of unconditional puts: %v", i, err)
		}
	})
	if got := mustGet(t, s, "T", "shared"); got.Version != racers {
		t.Fatalf("shared key after %d racing transactions: version %d, want %d", racers, got.Version, racers)
	}
}
