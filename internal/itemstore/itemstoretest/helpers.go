package itemstoretest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

func item(pk, sk, data string) itemstore.Item {
	it := itemstore.Item{PK: pk, SK: sk}
	if data != "" {
		it.Data = []byte(data)
	}
	return it
}

func put(it itemstore.Item) itemstore.Write { return itemstore.Write{Kind: itemstore.Put, Item: it} }

func key(prefix string, i int) string { return fmt.Sprintf("%s%03d", prefix, i) }

func mustPut(t *testing.T, s itemstore.Store, w itemstore.Write) itemstore.Item {
	t.Helper()
	got, err := s.Put(context.Background(), w)
	if err != nil {
		t.Fatalf("Put %s/%s: %v", w.Item.PK, w.Item.SK, err)
	}
	return got
}

func mustGet(t *testing.T, s itemstore.Store, pk, sk string) itemstore.Item {
	t.Helper()
	got, err := s.Get(context.Background(), pk, sk)
	if err != nil {
		t.Fatalf("Get %s/%s: %v", pk, sk, err)
	}
	return got
}

func assertItem(t *testing.T, what string, got, want itemstore.Item) {
	t.Helper()
	if !sameItem(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

func sameItem(a, b itemstore.Item) bool {
	return a.PK == b.PK && a.SK == b.SK && a.GSI1PK == b.GSI1PK && a.GSI1SK == b.GSI1SK &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.Version == b.Version && bytes.Equal(a.Data, b.Data)
}

func show(it itemstore.Item) string {
	return fmt.Sprintf("{%s/%s gsi1=%q/%q exp=%v v%d %s}", it.PK, it.SK, it.GSI1PK, it.GSI1SK, it.ExpiresAt, it.Version, it.Data)
}

// sortKeys lists the sort keys of items (GSI1SK when gsi).
func sortKeys(items []itemstore.Item, gsi bool) []string {
	var out []string
	for _, it := range items {
		if gsi {
			out = append(out, it.GSI1SK)
		} else {
			out = append(out, it.SK)
		}
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func reversed(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[len(in)-1-i] = s
	}
	return out
}

// queryAll follows Next to the end and returns the sort keys seen and the number of pages.
func queryAll(t *testing.T, s itemstore.Store, q itemstore.Query, gsi bool) ([]string, int) {
	t.Helper()
	var keys []string
	for pages := 1; pages <= 100; pages++ {
		page, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("Query %+v: %v", q, err)
		}
		if q.Limit > 0 && len(page.Items) > q.Limit {
			t.Fatalf("Query %+v: page of %d items", q, len(page.Items))
		}
		if page.Next != "" && len(page.Items) == 0 {
			t.Fatalf("Query %+v: empty page with a next cursor", q)
		}
		keys = append(keys, sortKeys(page.Items, gsi)...)
		if page.Next == "" {
			return keys, pages
		}
		q.Cursor = page.Next
	}
	t.Fatalf("Query %+v: more than 100 pages", q)
	return nil, 0
}

type feedRead struct {
	changes []itemstore.Change
	cursor  string
}

// waitChanges reads the feed from cursor until n changes arrived (the AWS stream is
// asynchronous), then checks that no more follow.
func waitChanges(t *testing.T, f itemstore.ChangeFeed, cursor string, n int) feedRead {
	t.Helper()
	ctx := context.Background()
	var got []itemstore.Change
	for deadline := time.Now().Add(feedTimeout); len(got) < n; {
		cs, next, err := f.ReadChanges(ctx, cursor, 100)
		if err != nil {
			t.Fatalf("ReadChanges(%q): %v", cursor, err)
		}
		got, cursor = append(got, cs...), next
		if len(cs) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("feed: %d changes after %v, want %d: %s", len(got), feedTimeout, n, showChanges(got))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	extra, _, err := f.ReadChanges(ctx, cursor, 100)
	if err != nil {
		t.Fatalf("ReadChanges(%q): %v", cursor, err)
	}
	if got = append(got, extra...); len(got) != n {
		t.Fatalf("feed: %d changes, want exactly %d: %s", len(got), n, showChanges(got))
	}
	return feedRead{changes: got, cursor: cursor}
}

// expectOnlySentinel writes a sentinel item and checks it is the only change after cursor.
// Absence cannot be observed on an asynchronous feed; a later write that arrives alone can.
func expectOnlySentinel(t *testing.T, s itemstore.Store, f itemstore.ChangeFeed, cursor string) {
	t.Helper()
	mustPut(t, s, itemstore.Write{Item: item("sentinel", "S", `{}`)})
	got := waitChanges(t, f, cursor, 1).changes
	if got[0].PK != "sentinel" || got[0].Kind != itemstore.Inserted {
		t.Fatalf("the only change should be the sentinel insert, got %s", showChanges(got))
	}
}

// change is what the suite expects of one feed entry: its kind and the data before and after.
type change struct {
	kind     itemstore.ChangeKind
	old, new string
}

func assertChanges(t *testing.T, got []itemstore.Change, want map[string][]change) {
	t.Helper()
	byKey := map[string][]itemstore.Change{}
	for _, c := range got {
		byKey[c.PK+"/"+c.SK] = append(byKey[c.PK+"/"+c.SK], c)
	}
	if len(byKey) != len(want) {
		t.Errorf("feed touched %d keys, want %d: %s", len(byKey), len(want), showChanges(got))
	}
	for k, ws := range want {
		cs := byKey[k]
		if len(cs) != len(ws) {
			t.Errorf("%s: %d changes, want %d: %s", k, len(cs), len(ws), showChanges(cs))
			continue
		}
		for i, w := range ws {
			if msg := checkChange(cs[i], w); msg != "" {
				t.Errorf("%s change %d: %s", k, i, msg)
			}
		}
	}
}

func checkChange(c itemstore.Change, w change) string {
	switch {
	case c.Kind != w.kind:
		return fmt.Sprintf("kind %s, want %s", c.Kind, w.kind)
	case c.Seq == "":
		return "empty Seq"
	case c.At.IsZero() || time.Since(c.At).Abs() > time.Hour:
		return fmt.Sprintf("At %v is not the time of the write", c.At)
	case (c.Old == nil) != (w.old == ""), (c.New == nil) != (w.new == ""):
		return fmt.Sprintf("old %v new %v, want old %q new %q", c.Old, c.New, w.old, w.new)
	case c.Old != nil && (string(c.Old.Data) != w.old || c.Old.PK != c.PK || c.Old.SK != c.SK):
		return fmt.Sprintf("old image %s, want data %s", show(*c.Old), w.old)
	case c.New != nil && (string(c.New.Data) != w.new || c.New.PK != c.PK || c.New.SK != c.SK):
		return fmt.Sprintf("new image %s, want data %s", show(*c.New), w.new)
	case c.Old != nil && c.New != nil && c.New.Version != c.Old.Version+1:
		return fmt.Sprintf("versions %d -> %d", c.Old.Version, c.New.Version)
	case c.Old == nil && c.New != nil && c.New.Version != 1:
		return fmt.Sprintf("insert with version %d", c.New.Version)
	}
	return ""
}

func showChanges(cs []itemstore.Change) string {
	var b bytes.Buffer
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %s %s/%s seq=%s", c.Kind, c.PK, c.SK, c.Seq)
		if c.Old != nil {
			fmt.Fprintf(&b, " old=%s", show(*c.Old))
		}
		if c.New != nil {
			fmt.Fprintf(&b, " new=%s", show(*c.New))
		}
	}
	return b.String()
}
