package ref

import (
	"strings"
	"testing"
	"time"
)

func TestNewIDIncreasesWithinOneMillisecond(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	lo, hi := IDBounds("art", at)
	prev := ""
	for i := range 10000 {
		id := NewID("art", at)
		if id <= prev {
			t.Fatalf("id %d %s does not sort after %s", i, id, prev)
		}
		if id < lo || id > hi {
			t.Fatalf("id %s outside its millisecond's bounds [%s, %s]", id, lo, hi)
		}
		prev = id
	}
	// A later millisecond sorts after everything of the earlier one.
	if next := NewID("art", at.Add(time.Millisecond)); next <= prev {
		t.Fatalf("next millisecond's id %s sorts before %s", next, prev)
	}
}

func TestNewIDIsNotPredictableFromThePrevious(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	a, b, c := NewID("ev", at), NewID("ev", at), NewID("ev", at)
	// Equal steps would mean a counter: the random step makes that (2^-32) unlikely.
	if strings.Compare(a, b) >= 0 || strings.Compare(b, c) >= 0 {
		t.Fatal("ids not increasing")
	}
	if step(t, a, b) == step(t, b, c) {
		t.Fatal("two consecutive steps are equal: ids are a counter")
	}
}

func step(t *testing.T, x, y string) uint64 {
	t.Helper()
	dx, _ := encoding.DecodeString(x[strings.IndexByte(x, '_')+1:])
	dy, _ := encoding.DecodeString(y[strings.IndexByte(y, '_')+1:])
	var a, b uint64
	for i := 8; i < 16; i++ {
		a, b = a<<8|uint64(dx[i]), b<<8|uint64(dy[i])
	}
	return b - a
}

func TestCheckRefusesWhatCouldTraverse(t *testing.T) {
	for _, bad := range []string{
		"repo:../../etc/passwd", "repo:a/../b", "repo:./a", "repo:a/.", "case:..", "case:.", "..",
		"repo:a//b", "repo:/etc/passwd", "repo:a/", "repo:", ":a", "a::b",
		`repo:a\b`, `repo:..\x`, "repo:%2e%2e/x", "repo:a%2Fb", "repo:%5c",
		"repo:a\x00b", "repo:a\nb", "repo:a\x7fb", "repo:a\u0085b", "repo:\xff",
		"repo:a:..", "evidence:x/..:y",
	} {
		if err := Check(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if len(bad) > 4 && strings.Contains(err.Error(), bad) {
			t.Errorf("%q: the error repeats the value", bad)
		}
	}
	for _, good := range []string{"repo:acme/api", "repo:github.com/acme/api", "session:s-1.2", "case:a..b", "case:...",
		"evidence:sha256:ab12", "tenant:acme", "group:.hidden", "github.com/acme/api", "actor:1"} {
		if err := Check(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}
