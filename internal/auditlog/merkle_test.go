package auditlog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

func leaves(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = LeafHash([]byte(fmt.Sprintf("entry %d", i)))
	}
	return out
}

// TestKnownRoots pins the hashing to RFC 6962 with values computed by hand from its
// definitions, so a change of prefix or split would fail here and not only round-trip.
func TestKnownRoots(t *testing.T) {
	sum := func(parts ...[]byte) Hash {
		h := sha256.New()
		for _, p := range parts {
			h.Write(p)
		}
		var out Hash
		h.Sum(out[:0])
		return out
	}
	l := func(s string) Hash { return sum([]byte{0}, []byte(s)) }
	n := func(a, b Hash) Hash { return sum([]byte{1}, a[:], b[:]) }
	a, b, c := l("a"), l("b"), l("c")
	if got := RootOf([]Hash{a, b, c}); got != n(n(a, b), c) {
		t.Fatalf("root of 3 leaves %s", got)
	}
	if EmptyRoot.String() != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("empty root %s", EmptyRoot)
	}
	if LeafHash([]byte("a")) != a {
		t.Fatal("leaf hash is not sha256(0x00 || entry)")
	}
}

func TestFrontierMatchesRootOf(t *testing.T) {
	all := leaves(130)
	var f Frontier
	for n := 0; n <= len(all); n++ {
		if got, want := f.Root(), RootOf(all[:n]); got != want {
			t.Fatalf("size %d: frontier root %s, MTH %s", n, got, want)
		}
		g, err := ParseFrontier(f.Size(), f.Strings())
		if err != nil || g.Root() != f.Root() {
			t.Fatalf("size %d: frontier does not round-trip: %v", n, err)
		}
		if n < len(all) {
			f.Append(all[n])
		}
	}
	if _, err := NewFrontier(5, leaves(1)); err == nil {
		t.Fatal("a frontier of 5 leaves with one hash was accepted")
	}
}

func TestInclusionProofs(t *testing.T) {
	for n := 1; n <= 40; n++ {
		all := leaves(n)
		root := RootOf(all)
		for m := 0; m < n; m++ {
			path := InclusionPath(m, all)
			got, err := RootFromInclusion(uint64(m), uint64(n), all[m], path)
			if err != nil || got != root {
				t.Fatalf("n=%d m=%d: %v %s", n, m, err, got)
			}
			if other, _ := RootFromInclusion(uint64(m), uint64(n), LeafHash([]byte("x")), path); other == root {
				t.Fatalf("n=%d m=%d: a foreign leaf verifies", n, m)
			}
			if n > 1 {
				if _, err := RootFromInclusion(uint64(m), uint64(n), all[m], path[:len(path)-1]); err == nil {
					if r, _ := RootFromInclusion(uint64(m), uint64(n), all[m], path[:len(path)-1]); r == root {
						t.Fatalf("n=%d m=%d: a shortened path verifies", n, m)
					}
				}
			}
		}
	}
	if _, err := RootFromInclusion(3, 3, Hash{}, nil); err == nil {
		t.Fatal("index outside the tree accepted")
	}
}

func TestParseHash(t *testing.T) {
	h := LeafHash([]byte("x"))
	got, err := ParseHash(h.String())
	if err != nil || got != h {
		t.Fatalf("%v %s", err, got)
	}
	for _, bad := range []string{"", "sha256:", "md5:" + hex.EncodeToString(h[:]), "sha256:" + hex.EncodeToString(h[:])[:63] + "z"} {
		if _, err := ParseHash(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
