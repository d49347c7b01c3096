// Package itemstoretest is the contract suite of the item store port. Every adapter runs the
// same Run against a real backend (SQLite file, DynamoDB on the emulator), so the behaviour
// the domain relies on cannot drift between the two families.
package itemstoretest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Open returns a fresh, empty store and its change feed, cleaned up through t. Both must
// read the system clock: the suite writes expiry times relative to time.Now.
type Open func(t *testing.T) (itemstore.Store, itemstore.ChangeFeed)

// feedTimeout bounds how long the suite waits for a change to reach the feed (DynamoDB
// Streams delivers asynchronously).
const feedTimeout = 15 * time.Second

// Run runs the whole contract against the adapter that open builds.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s itemstore.Store, f itemstore.ChangeFeed)
	}{
		{"PutGetRoundTrip", testPutGetRoundTrip},
		{"GetMissing", testGetMissing},
		{"InvalidRequests", testInvalidRequests},
		{"PutConditions", testPutConditions},
		{"DeleteConditions", testDeleteConditions},
		{"TransactAllOrNothing", testTransactAllOrNothing},
		{"TransactApplies", testTransactApplies},
		{"TransactLimits", testTransactLimits},
		{"QueryTable", testQueryTable},
		{"QueryPagination", testQueryPagination},
		{"QueryGSI1", testQueryGSI1},
		{"QueryInvalid", testQueryInvalid},
		{"ExpiredInvisible", testExpiredInvisible},
		{"ExpiresWhileStored", testExpiresWhileStored},
		{"FeedCarriesEveryWrite", testFeedCarriesEveryWrite},
		{"FeedResumeAndPages", testFeedResumeAndPages},
		{"RaceIfAbsent", testRaceIfAbsent},
		{"RaceIfVersionIncrements", testRaceIfVersionIncrements},
		{"RaceAlwaysVersions", testRaceAlwaysVersions},
		{"RaceTransactAlways", testRaceTransactAlways},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, f := open(t)
			tc.fn(t, s, f)
		})
	}
}

func testPutGetRoundTrip(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	in := itemstore.Item{PK: "T#1", SK: "R#1", GSI1PK: "G#1", GSI1SK: "2024", ExpiresAt: exp, Data: []byte(`{"a":1}`)}
	got := mustPut(t, s, itemstore.Write{Item: in})
	want := in
	want.Version = 1
	assertItem(t, "put result", got, want)
	assertItem(t, "get after put", mustGet(t, s, "T#1", "R#1"), want)

	// A second put replaces the whole item: the index keys and TTL it no longer has go away.
	in2 := itemstore.Item{PK: "T#1", SK: "R#1", Data: []byte(`{"a":2}`)}
	got = mustPut(t, s, itemstore.Write{Item: in2})
	want2 := in2
	want2.Version = 2
	assertItem(t, "second put result", got, want2)
	assertItem(t, "get after second put", mustGet(t, s, "T#1", "R#1"), want2)

	// Version is set by the store, whatever the caller passes.
	in3 := itemstore.Item{PK: "T#1", SK: "R#1", Version: 40, Data: []byte(`{"a":3}`)}
	if got = mustPut(t, s, itemstore.Write{Item: in3}); got.Version != 3 {
		t.Fatalf("third put: version %d, want 3", got.Version)
	}

	// Empty data is a valid document as far as the store is concerned.
	if got = mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "T#1", SK: "R#3"}}); len(got.Data) != 0 || got.Version != 1 {
		t.Fatalf("put without data: %s", show(got))
	}
	if got = mustGet(t, s, "T#1", "R#3"); len(got.Data) != 0 {
		t.Fatalf("get of an item without data: %s", show(got))
	}

	// TTL is kept in whole seconds, rounded up.
	sub := time.Now().Add(time.Hour).Truncate(time.Second).Add(300 * time.Millisecond)
	got = mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "T#1", SK: "R#2", ExpiresAt: sub, Data: []byte(`{}`)}})
	if wantExp := sub.Truncate(time.Second).Add(time.Second); !got.ExpiresAt.Equal(wantExp) {
		t.Fatalf("sub-second ExpiresAt %v stored as %v, want %v", sub, got.ExpiresAt, wantExp)
	}
}

func testGetMissing(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	mustPut(t, s, itemstore.Write{Item: item("T#1", "R#1", `{}`)})
	for _, k := range [][2]string{{"T#1", "R#2"}, {"T#2", "R#1"}} {
		if _, err := s.Get(context.Background(), k[0], k[1]); !errors.Is(err, itemstore.ErrNotFound) {
			t.Errorf("Get(%q, %q): err %v, want ErrNotFound", k[0], k[1], err)
		}
	}
}

func testInvalidRequests(t *testing.T, s itemstore.Store, f itemstore.ChangeFeed) {
	ctx := context.Background()
	puts := map[string]itemstore.Write{
		"empty PK":            {Item: item("", "R", `{}`)},
		"empty SK":            {Item: item("T", "", `{}`)},
		"GSI1PK without SK":   {Item: itemstore.Item{PK: "T", SK: "R", GSI1PK: "G", Data: []byte(`{}`)}},
		"GSI1SK without PK":   {Item: itemstore.Item{PK: "T", SK: "R", GSI1SK: "G", Data: []byte(`{}`)}},
		"IfVersion 0":         {Item: item("T", "R", `{}`), Cond: itemstore.IfVersion},
		"unknown condition":   {Item: item("T", "R", `{}`), Cond: itemstore.Condition(99)},
		"Put with Kind Check": {Kind: itemstore.Check, Item: item("T", "R", `{}`), Cond: itemstore.IfExists},
	}
	for name, w := range puts {
		if _, err := s.Put(ctx, w); !errors.Is(err, itemstore.ErrInvalid) {
			t.Errorf("Put %s: err %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.Get(ctx, "", "R"); !errors.Is(err, itemstore.ErrInvalid) {
		t.Errorf("Get with empty PK: err %v, want ErrInvalid", err)
	}
	if err := s.Delete(ctx, itemstore.Write{Kind: itemstore.Delete, Item: item("T", "R", ""), Cond: itemstore.IfAbsent}); !errors.Is(err, itemstore.ErrInvalid) {
		t.Errorf("Delete IfAbsent: err %v, want ErrInvalid", err)
	}
	check := itemstore.Write{Kind: itemstore.Check, Item: item("T", "R", ""), Cond: itemstore.Always}
	if err := s.Transact(ctx, []itemstore.Write{put(item("T", "S", `{}`)), check}); !errors.Is(err, itemstore.ErrInvalid) {
		t.Errorf("Transact with Check Always: err %v, want ErrInvalid", err)
	}
	if _, err := s.Get(ctx, "T", "R"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Errorf("an invalid request wrote an item: Get err %v", err)
	}
	// Nothing invalid reached the feed: the first change is the sentinel written now.
	expectOnlySentinel(t, s, f, "")
}

func testPutConditions(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	first := mustPut(t, s, itemstore.Write{Item: item("T", "R", `{"v":1}`), Cond: itemstore.IfAbsent})
	if first.Version != 1 {
		t.Fatalf("IfAbsent on a missing key: version %d, want 1", first.Version)
	}
	failing := map[string]itemstore.Write{
		"IfAbsent on existing":    {Item: item("T", "R", `{"v":"x"}`), Cond: itemstore.IfAbsent},
		"IfVersion behind":        {Item: item("T", "R", `{"v":"x"}`), Cond: itemstore.IfVersion, ExpectVersion: 2},
		"IfVersion on missing":    {Item: item("T", "missing", `{}`), Cond: itemstore.IfVersion, ExpectVersion: 1},
		"IfExists on missing key": {Item: item("T", "missing", `{}`), Cond: itemstore.IfExists},
	}
	for name, w := range failing {
		if _, err := s.Put(ctx, w); !errors.Is(err, itemstore.ErrConflict) {
			t.Errorf("Put %s: err %v, want ErrConflict", name, err)
		}
	}
	assertItem(t, "after failed puts", mustGet(t, s, "T", "R"), first)
	if _, err := s.Get(ctx, "T", "missing"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Errorf("a failed conditional put created an item: Get err %v", err)
	}

	got := mustPut(t, s, itemstore.Write{Item: item("T", "R", `{"v":2}`), Cond: itemstore.IfVersion, ExpectVersion: 1})
	if got.Version != 2 || string(got.Data) != `{"v":2}` {
		t.Fatalf("IfVersion 1: got version %d data %s", got.Version, got.Data)
	}
	got = mustPut(t, s, itemstore.Write{Item: item("T", "R", `{"v":3}`), Cond: itemstore.IfExists})
	if got.Version != 3 {
		t.Fatalf("IfExists: version %d, want 3", got.Version)
	}
	assertItem(t, "after conditional puts", mustGet(t, s, "T", "R"), got)
}

func testDeleteConditions(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	v1 := mustPut(t, s, itemstore.Write{Item: item("T", "R", `{}`)})
	del := func(cond itemstore.Condition, sk string, ver int64) error {
		return s.Delete(ctx, itemstore.Write{Kind: itemstore.Delete, Item: item("T", sk, ""), Cond: cond, ExpectVersion: ver})
	}
	if err := del(itemstore.IfVersion, "R", 2); !errors.Is(err, itemstore.ErrConflict) {
		t.Errorf("Delete IfVersion 2 of a v1 item: err %v, want ErrConflict", err)
	}
	if err := del(itemstore.IfExists, "missing", 0); !errors.Is(err, itemstore.ErrConflict) {
		t.Errorf("Delete IfExists of a missing item: err %v, want ErrConflict", err)
	}
	if err := del(itemstore.IfVersion, "missing", 1); !errors.Is(err, itemstore.ErrConflict) {
		t.Errorf("Delete IfVersion of a missing item: err %v, want ErrConflict", err)
	}
	assertItem(t, "after failed deletes", mustGet(t, s, "T", "R"), v1)
	if err := del(itemstore.IfVersion, "R", 1); err != nil {
		t.Fatalf("Delete IfVersion 1: %v", err)
	}
	if _, err := s.Get(ctx, "T", "R"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Fatalf("after delete: Get err %v, want ErrNotFound", err)
	}
	if err := del(itemstore.Always, "R", 0); err != nil {
		t.Errorf("Delete Always of a missing item: %v, want nil", err)
	}
	mustPut(t, s, itemstore.Write{Item: item("T", "R2", `{}`)})
	if err := del(itemstore.IfExists, "R2", 0); err != nil {
		t.Fatalf("Delete IfExists: %v", err)
	}
	if _, err := s.Get(ctx, "T", "R2"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Fatalf("after IfExists delete: Get err %v, want ErrNotFound", err)
	}
	// A key written again after its delete starts over at version 1.
	if got := mustPut(t, s, itemstore.Write{Item: item("T", "R", `{}`)}); got.Version != 1 {
		t.Errorf("put after delete: version %d, want 1", got.Version)
	}
}

func testTransactAllOrNothing(t *testing.T, s itemstore.Store, f itemstore.ChangeFeed) {
	ctx := context.Background()
	a := mustPut(t, s, itemstore.Write{Item: item("T", "A", `{"a":1}`)})
	start := waitChanges(t, f, "", 1).cursor

	writes := []itemstore.Write{
		put(item("T", "B", `{}`)),
		{Item: item("T", "C", `{}`), Cond: itemstore.IfAbsent},
		{Kind: itemstore.Delete, Item: item("T", "A", ""), Cond: itemstore.IfVersion, ExpectVersion: 1},
		{Kind: itemstore.Check, Item: item("T", "D", ""), Cond: itemstore.IfExists}, // D is missing
	}
	if err := s.Transact(ctx, writes); !errors.Is(err, itemstore.ErrConflict) {
		t.Fatalf("Transact with a failing check: err %v, want ErrConflict", err)
	}
	// The failing condition may be any entry, not just a check.
	writes[3] = itemstore.Write{Item: item("T", "A", `{}`), Cond: itemstore.IfVersion, ExpectVersion: 7}
	writes[2] = put(item("T", "E", `{}`))
	if err := s.Transact(ctx, writes); !errors.Is(err, itemstore.ErrConflict) {
		t.Fatalf("Transact with a failing put: err %v, want ErrConflict", err)
	}
	for _, sk := range []string{"B", "C", "E"} {
		if _, err := s.Get(ctx, "T", sk); !errors.Is(err, itemstore.ErrNotFound) {
			t.Errorf("failed transaction wrote %s: Get err %v", sk, err)
		}
	}
	assertItem(t, "A after failed transactions", mustGet(t, s, "T", "A"), a)
	expectOnlySentinel(t, s, f, start)
}

func testTransactApplies(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	mustPut(t, s, itemstore.Write{Item: item("T", "A", `{}`)})
	e := mustPut(t, s, itemstore.Write{Item: item("T", "E", `{"e":1}`)})
	mustPut(t, s, itemstore.Write{Item: item("T", "M", `{"m":1}`)})
	mustPut(t, s, itemstore.Write{Item: item("T", "V", `{"v":1}`)})
	writes := []itemstore.Write{
		{Item: item("T", "B", `{"b":1}`), Cond: itemstore.IfAbsent},
		{Kind: itemstore.Delete, Item: item("T", "A", ""), Cond: itemstore.IfExists},
		{Kind: itemstore.Check, Item: item("T", "E", ""), Cond: itemstore.IfVersion, ExpectVersion: 1},
		{Kind: itemstore.Check, Item: item("T", "Z", ""), Cond: itemstore.IfAbsent},
		put(item("T", "M", `{"m":2}`)),
		{Item: item("T", "V", `{"v":2}`), Cond: itemstore.IfVersion, ExpectVersion: 1},
	}
	if err := s.Transact(ctx, writes); err != nil {
		t.Fatalf("Transact: %v", err)
	}
	assertItem(t, "B", mustGet(t, s, "T", "B"), itemstore.Item{PK: "T", SK: "B", Version: 1, Data: []byte(`{"b":1}`)})
	assertItem(t, "E (checked only)", mustGet(t, s, "T", "E"), e)
	assertItem(t, "M", mustGet(t, s, "T", "M"), itemstore.Item{PK: "T", SK: "M", Version: 2, Data: []byte(`{"m":2}`)})
	assertItem(t, "V", mustGet(t, s, "T", "V"), itemstore.Item{PK: "T", SK: "V", Version: 2, Data: []byte(`{"v":2}`)})
	for _, sk := range []string{"A", "Z"} {
		if _, err := s.Get(ctx, "T", sk); !errors.Is(err, itemstore.ErrNotFound) {
			t.Errorf("%s: Get err %v, want ErrNotFound", sk, err)
		}
	}
	if err := s.Transact(ctx, nil); err != nil {
		t.Errorf("empty Transact: %v, want nil", err)
	}
}

func testTransactLimits(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	writes := make([]itemstore.Write, itemstore.MaxTransactWrites+1)
	for i := range writes {
		writes[i] = put(item("T", key("R", i), `{}`))
	}
	if err := s.Transact(ctx, writes); !errors.Is(err, itemstore.ErrInvalid) {
		t.Fatalf("Transact of %d writes: err %v, want ErrInvalid", len(writes), err)
	}
	if _, err := s.Get(ctx, "T", key("R", 0)); !errors.Is(err, itemstore.ErrNotFound) {
		t.Fatalf("rejected transaction wrote an item: Get err %v", err)
	}
	dup := []itemstore.Write{put(item("T", "X", `{}`)), {Kind: itemstore.Delete, Item: item("T", "X", "")}}
	if err := s.Transact(ctx, dup); !errors.Is(err, itemstore.ErrInvalid) {
		t.Fatalf("Transact with two entries on one key: err %v, want ErrInvalid", err)
	}
	if err := s.Transact(ctx, writes[:itemstore.MaxTransactWrites]); err != nil {
		t.Fatalf("Transact of exactly %d writes: %v", itemstore.MaxTransactWrites, err)
	}
	page, err := s.Query(ctx, itemstore.Query{PK: "T", Limit: 1000})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(page.Items) != itemstore.MaxTransactWrites {
		t.Fatalf("after a %d-write transaction the partition holds %d items", itemstore.MaxTransactWrites, len(page.Items))
	}
}

// seedPartition writes P's items out of order, plus neighbours that must never show up.
func seedPartition(t *testing.T, s itemstore.Store) {
	for _, sk := range []string{"b#2", "a#3", "a#1", "c", "b#1", "a#5", "a#2", "a#4", "b#3", "a"} {
		mustPut(t, s, itemstore.Write{Item: item("P", sk, `{"sk":"`+sk+`"}`)})
	}
	mustPut(t, s, itemstore.Write{Item: item("P2", "a#1", `{}`)})
	mustPut(t, s, itemstore.Write{Item: item("OP", "a#1", `{}`)})
}

func testQueryTable(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	seedPartition(t, s)
	cases := []struct {
		name string
		q    itemstore.Query
		want []string
	}{
		{"all", itemstore.Query{PK: "P"}, []string{"a", "a#1", "a#2", "a#3", "a#4", "a#5", "b#1", "b#2", "b#3", "c"}},
		{"prefix", itemstore.Query{PK: "P", SKPrefix: "a#"}, []string{"a#1", "a#2", "a#3", "a#4", "a#5"}},
		{"prefix desc", itemstore.Query{PK: "P", SKPrefix: "b#", Desc: true}, []string{"b#3", "b#2", "b#1"}},
		{"prefix none", itemstore.Query{PK: "P", SKPrefix: "d"}, nil},
		{"from to", itemstore.Query{PK: "P", SKFrom: "a#3", SKTo: "b#1"}, []string{"a#3", "a#4", "a#5", "b#1"}},
		{"from to desc", itemstore.Query{PK: "P", SKFrom: "a#3", SKTo: "b#1", Desc: true}, []string{"b#1", "a#5", "a#4", "a#3"}},
		{"from", itemstore.Query{PK: "P", SKFrom: "b#2"}, []string{"b#2", "b#3", "c"}},
		{"to", itemstore.Query{PK: "P", SKTo: "a#2"}, []string{"a", "a#1", "a#2"}},
		{"limit", itemstore.Query{PK: "P", Limit: 3, Desc: true}, []string{"c", "b#3", "b#2"}},
		{"missing partition", itemstore.Query{PK: "nope"}, nil},
	}
	for _, c := range cases {
		page, err := s.Query(context.Background(), c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := sortKeys(page.Items, false); !equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		for _, it := range page.Items {
			if string(it.Data) != `{"sk":"`+it.SK+`"}` || it.Version != 1 {
				t.Errorf("%s: item %s came back as version %d data %s", c.name, it.SK, it.Version, it.Data)
			}
		}
	}
}

func testQueryPagination(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	seedPartition(t, s)
	all := []string{"a", "a#1", "a#2", "a#3", "a#4", "a#5", "b#1", "b#2", "b#3", "c"}
	rev := reversed(all)
	cases := []struct {
		name  string
		q     itemstore.Query
		want  []string
		pages int
	}{
		{"asc by 3", itemstore.Query{PK: "P", Limit: 3}, all, 4},
		{"asc by 5, exact fit", itemstore.Query{PK: "P", Limit: 5}, all, 2},
		{"desc by 4", itemstore.Query{PK: "P", Limit: 4, Desc: true}, rev, 3},
		{"prefix by 2", itemstore.Query{PK: "P", SKPrefix: "a#", Limit: 2}, all[1:6], 3},
		{"range by 1", itemstore.Query{PK: "P", SKFrom: "a#4", SKTo: "b#2", Limit: 1}, all[4:8], 4},
		{"everything in one page", itemstore.Query{PK: "P", Limit: 10}, all, 1},
	}
	for _, c := range cases {
		got, pages := queryAll(t, s, c.q, false)
		if !equal(got, c.want) || pages != c.pages {
			t.Errorf("%s: got %v in %d pages, want %v in %d pages", c.name, got, pages, c.want, c.pages)
		}
	}
}

func testQueryGSI1(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	for i, g := range []string{"2024-03", "2024-01", "2025-01", "2024-02", "2023-12"} {
		it := itemstore.Item{PK: key("T", i), SK: "R", GSI1PK: "G", GSI1SK: g, Data: []byte(`{}`)}
		mustPut(t, s, itemstore.Write{Item: it})
	}
	mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "T9", SK: "R", GSI1PK: "G2", GSI1SK: "2024-01", Data: []byte(`{}`)}})
	mustPut(t, s, itemstore.Write{Item: item("G", "2024-01", `{}`)}) // not in the index
	// An item that leaves the index.
	mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "T8", SK: "R", GSI1PK: "G", GSI1SK: "2024-05", Data: []byte(`{}`)}})
	mustPut(t, s, itemstore.Write{Item: item("T8", "R", `{}`)})

	q := itemstore.Query{Index: itemstore.GSI1, PK: "G"}
	got, _ := queryAll(t, s, q, true)
	if want := []string{"2023-12", "2024-01", "2024-02", "2024-03", "2025-01"}; !equal(got, want) {
		t.Errorf("gsi1: got %v, want %v", got, want)
	}
	page, err := s.Query(ctx, q)
	if err != nil {
		t.Fatalf("gsi1 query: %v", err)
	}
	for _, it := range page.Items {
		if it.GSI1PK != "G" || it.SK != "R" || it.PK == "" || it.Version != 1 {
			t.Errorf("gsi1 item came back incomplete: %+v", it)
		}
	}
	q.SKPrefix, q.Desc, q.Limit = "2024-", true, 2
	got, pages := queryAll(t, s, q, true)
	if want := []string{"2024-03", "2024-02", "2024-01"}; !equal(got, want) || pages != 2 {
		t.Errorf("gsi1 prefix desc by 2: got %v in %d pages, want %v in 2", got, pages, want)
	}
	q = itemstore.Query{Index: itemstore.GSI1, PK: "G", SKFrom: "2024-01", SKTo: "2024-02", Limit: 1}
	got, pages = queryAll(t, s, q, true)
	if want := []string{"2024-01", "2024-02"}; !equal(got, want) || pages != 2 {
		t.Errorf("gsi1 range by 1: got %v in %d pages, want %v in 2", got, pages, want)
	}
}

func testQueryInvalid(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	seedPartition(t, s)
	first, err := s.Query(ctx, itemstore.Query{PK: "P", Limit: 2})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: next %q err %v", first.Next, err)
	}
	bad := map[string]itemstore.Query{
		"empty PK":            {},
		"unknown index":       {Index: "gsi9", PK: "P"},
		"limit too large":     {PK: "P", Limit: 1001},
		"negative limit":      {PK: "P", Limit: -1},
		"prefix with range":   {PK: "P", SKPrefix: "a", SKFrom: "a#1"},
		"from after to":       {PK: "P", SKFrom: "b", SKTo: "a"},
		"garbage cursor":      {PK: "P", Cursor: "not a cursor"},
		"other PK's cursor":   {PK: "P2", Cursor: first.Next},
		"table cursor on gsi": {Index: itemstore.GSI1, PK: "P", Cursor: first.Next},
	}
	for name, q := range bad {
		if _, err := s.Query(ctx, q); !errors.Is(err, itemstore.ErrInvalid) {
			t.Errorf("Query %s: err %v, want ErrInvalid", name, err)
		}
	}
}

func testExpiredInvisible(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	expired := itemstore.Item{PK: "T", SK: "old", GSI1PK: "G", GSI1SK: "old", ExpiresAt: past, Data: []byte(`{}`)}
	mustPut(t, s, itemstore.Write{Item: expired})
	mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "live", GSI1PK: "G", GSI1SK: "live", Data: []byte(`{}`)}})
	if _, err := s.Get(ctx, "T", "old"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Errorf("Get of an expired item: err %v, want ErrNotFound", err)
	}
	queries := []struct {
		q    itemstore.Query
		want []string
	}{
		{itemstore.Query{PK: "T"}, []string{"live"}},
		{itemstore.Query{Index: itemstore.GSI1, PK: "G"}, []string{"live"}},
		{itemstore.Query{PK: "T", SKPrefix: "o"}, nil},
		{itemstore.Query{PK: "T", Limit: 1}, []string{"live"}},
	}
	for _, c := range queries {
		page, err := s.Query(ctx, c.q)
		if err != nil {
			t.Fatalf("Query %+v: %v", c.q, err)
		}
		if got := sortKeys(page.Items, false); !equal(got, c.want) || page.Next != "" {
			t.Errorf("Query %+v: got %v next %q, want %v and no next page", c.q, got, page.Next, c.want)
		}
	}
	// Conditions see an expired item as absent too.
	if _, err := s.Put(ctx, itemstore.Write{Item: item("T", "old", `{}`), Cond: itemstore.IfExists}); !errors.Is(err, itemstore.ErrConflict) {
		t.Errorf("Put IfExists over an expired item: err %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, itemstore.Write{Kind: itemstore.Delete, Item: item("T", "old", ""), Cond: itemstore.IfVersion, ExpectVersion: 1}); !errors.Is(err, itemstore.ErrConflict) {
		t.Errorf("Delete IfVersion of an expired item: err %v, want ErrConflict", err)
	}
	got := mustPut(t, s, itemstore.Write{Item: item("T", "old", `{"new":true}`), Cond: itemstore.IfAbsent})
	if got.Version != 1 {
		t.Errorf("IfAbsent over an expired item: version %d, want 1", got.Version)
	}
	// An unconditional put over an expired item also starts over.
	mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "old2", ExpiresAt: past, Data: []byte(`{}`)}})
	if got := mustPut(t, s, itemstore.Write{Item: item("T", "old2", `{}`)}); got.Version != 1 {
		t.Errorf("Put over an expired item: version %d, want 1", got.Version)
	}
	// Many expired items before a live one must not shorten or end the page early.
	for i := 0; i < 5; i++ {
		mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "X", SK: key("a", i), ExpiresAt: past, Data: []byte(`{}`)}})
	}
	mustPut(t, s, itemstore.Write{Item: item("X", "b", `{}`)})
	mustPut(t, s, itemstore.Write{Item: item("X", "c", `{}`)})
	page, err := s.Query(ctx, itemstore.Query{PK: "X", Limit: 1})
	if err != nil || !equal(sortKeys(page.Items, false), []string{"b"}) || page.Next == "" {
		t.Errorf("Query past expired items: got %v next %q err %v, want [b] and a next page", sortKeys(page.Items, false), page.Next, err)
	}
}

func testExpiresWhileStored(t *testing.T, s itemstore.Store, _ itemstore.ChangeFeed) {
	ctx := context.Background()
	exp := time.Now().Add(2 * time.Second)
	mustPut(t, s, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "R", ExpiresAt: exp, Data: []byte(`{}`)}})
	if _, err := s.Get(ctx, "T", "R"); err != nil {
		t.Fatalf("Get before expiry: %v", err)
	}
	// Stored TTLs round up to the second, so the item is gone at most a second after exp.
	time.Sleep(time.Until(exp.Add(1100 * time.Millisecond)))
	if _, err := s.Get(ctx, "T", "R"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Errorf("Get after expiry: err %v, want ErrNotFound", err)
	}
	page, err := s.Query(ctx, itemstore.Query{PK: "T"})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("Query after expiry: %d items, err %v, want none", len(page.Items), err)
	}
}

func testFeedCarriesEveryWrite(t *testing.T, s itemstore.Store, f itemstore.ChangeFeed) {
	ctx := context.Background()
	mustPut(t, s, itemstore.Write{Item: item("T", "A", `{"a":1}`)})
	mustPut(t, s, itemstore.Write{Item: item("T", "A", `{"a":2}`), Cond: itemstore.IfVersion, ExpectVersion: 1})
	mustPut(t, s, itemstore.Write{Item: item("T", "B", `{"b":1}`), Cond: itemstore.IfAbsent})
	// Writes that change nothing must not appear.
	if _, err := s.Put(ctx, itemstore.Write{Item: item("T", "B", `{"b":"x"}`), Cond: itemstore.IfAbsent}); !errors.Is(err, itemstore.ErrConflict) {
		t.Fatalf("Put IfAbsent over B: err %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, itemstore.Write{Kind: itemstore.Delete, Item: item("T", "nope", "")}); err != nil {
		t.Fatalf("Delete of a missing item: %v", err)
	}
	failing := []itemstore.Write{put(item("T", "C", `{"c":"x"}`)), {Kind: itemstore.Check, Item: item("T", "nope", ""), Cond: itemstore.IfExists}}
	if err := s.Transact(ctx, failing); !errors.Is(err, itemstore.ErrConflict) {
		t.Fatalf("failing Transact: err %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, itemstore.Write{Kind: itemstore.Delete, Item: item("T", "A", "")}); err != nil {
		t.Fatalf("Delete A: %v", err)
	}
	err := s.Transact(ctx, []itemstore.Write{
		put(item("T", "C", `{"c":1}`)),
		{Item: item("T", "B", `{"b":2}`), Cond: itemstore.IfVersion, ExpectVersion: 1},
		{Kind: itemstore.Check, Item: item("T", "X", ""), Cond: itemstore.IfAbsent},
	})
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	if err := s.Transact(ctx, []itemstore.Write{{Kind: itemstore.Delete, Item: item("T", "C", ""), Cond: itemstore.IfVersion, ExpectVersion: 1}}); err != nil {
		t.Fatalf("Transact delete C: %v", err)
	}

	want := map[string][]change{
		"T/A": {{itemstore.Inserted, "", `{"a":1}`}, {itemstore.Modified, `{"a":1}`, `{"a":2}`}, {itemstore.Removed, `{"a":2}`, ""}},
		"T/B": {{itemstore.Inserted, "", `{"b":1}`}, {itemstore.Modified, `{"b":1}`, `{"b":2}`}},
		"T/C": {{itemstore.Inserted, "", `{"c":1}`}, {itemstore.Removed, `{"c":1}`, ""}},
	}
	got := waitChanges(t, f, "", 7).changes
	assertChanges(t, got, want)
}

func testFeedResumeAndPages(t *testing.T, s itemstore.Store, f itemstore.ChangeFeed) {
	ctx := context.Background()
	empty, cur, err := f.ReadChanges(ctx, "", 10)
	if err != nil || len(empty) != 0 {
		t.Fatalf("feed of an empty store: %d changes, err %v", len(empty), err)
	}
	for i := 0; i < 5; i++ {
		mustPut(t, s, itemstore.Write{Item: item("T", key("R", i), `{}`)})
	}
	// The cursor taken from the empty feed resumes before the first change.
	first := waitChanges(t, f, cur, 5)
	if len(first.changes) != 5 {
		t.Fatalf("from the empty feed's cursor: %d changes, want 5", len(first.changes))
	}
	for i := 5; i < 8; i++ {
		mustPut(t, s, itemstore.Write{Item: item("T", key("R", i), `{}`)})
	}
	later := waitChanges(t, f, first.cursor, 3)
	for i, c := range later.changes {
		if c.SK != key("R", 5+i) || c.Kind != itemstore.Inserted {
			t.Errorf("resumed change %d: %s %s/%s, want INSERT T/%s", i, c.Kind, c.PK, c.SK, key("R", 5+i))
		}
	}
	// Reading one change at a time yields the same changes as reading them all at once.
	var paged []itemstore.Change
	deadline := time.Now().Add(feedTimeout)
	for cur = ""; len(paged) < 8 && time.Now().Before(deadline); {
		cs, next, err := f.ReadChanges(ctx, cur, 1)
		if err != nil {
			t.Fatalf("ReadChanges limit 1: %v", err)
		}
		if len(cs) > 1 {
			t.Fatalf("ReadChanges limit 1 returned %d changes", len(cs))
		}
		paged, cur = append(paged, cs...), next
	}
	all := append(first.changes, later.changes...)
	if len(paged) != len(all) {
		t.Fatalf("paged read: %d changes, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].Seq != all[i].Seq || paged[i].SK != all[i].SK || paged[i].Seq == "" {
			t.Errorf("paged change %d: seq %q key %s, want seq %q key %s", i, paged[i].Seq, paged[i].SK, all[i].Seq, all[i].SK)
		}
	}
	if cs, _, err := f.ReadChanges(ctx, cur, 10); err != nil || len(cs) != 0 {
		t.Errorf("after the last change: %d changes, err %v, want none", len(cs), err)
	}
	if _, _, err := f.ReadChanges(ctx, "garbage cursor", 10); !errors.Is(err, itemstore.ErrInvalid) {
		t.Errorf("ReadChanges with a garbage cursor: err %v, want ErrInvalid", err)
	}
}
