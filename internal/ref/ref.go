// Package ref makes the opaque references the product hands out ("<kind>:<id>"). Ids sort by
// creation time (a millisecond prefix) and carry 80 random bits, so they are unguessable and
// list in creation order from a key-ordered store, also within one millisecond of one
// process (see NewID).
package ref

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new time-ordered id such as "ev_01jd3k5m9q2r8t7v6w5x4y3z2a". Ids made by
// one process in the same millisecond increase: the next one adds a random step of up to
// 2^32 to the previous one's random part (as monotonic ULIDs do), so a render's artifacts
// list in the order they were made while a known id still does not reveal the next.
func NewID(prefix string, now time.Time) string {
	b := monotonic.next(now.UnixMilli())
	return prefix + "_" + encoding.EncodeToString(b[:])
}

// idSource remembers the last id's millisecond and random part.
type idSource struct {
	mu     sync.Mutex
	ms     int64
	random big.Int
}

var (
	monotonic  idSource
	randomSpan = new(big.Int).Lsh(big.NewInt(1), 80)
	stepSpan   = new(big.Int).Lsh(big.NewInt(1), 32)
)

func (s *idSource) next(ms int64) [16]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(ms)<<16)
	if ms == s.ms {
		step, _ := rand.Int(rand.Reader, stepSpan) // crypto/rand never fails on supported platforms
		s.random.Add(&s.random, step.Add(step, big.NewInt(1)))
	}
	if ms != s.ms || s.random.Cmp(randomSpan) >= 0 {
		// A new millisecond, or (practically never) the random part ran out: start afresh.
		_, _ = rand.Read(b[6:])
		s.random.SetBytes(b[6:])
		s.ms = ms
	}
	s.random.FillBytes(b[6:])
	return b
}

// Make joins a kind and an id: Make("tenant", "demo") == "tenant:demo".
func Make(kind, id string) string { return kind + ":" + id }

// None is the one placeholder form for a ref a public schema requires where no real target
// exists (see docs/contracts.md): "<kind>:none".
func None(kind string) string { return kind + ":none" }

// Split returns the kind and id of a ref.
func Split(r string) (kind, id string, ok bool) {
	return strings.Cut(r, ":")
}

// IDBounds returns the smallest and largest ids NewID(prefix, ·) can give for the
// millisecond of t, so a key range over time-ordered ids selects a time range.
func IDBounds(prefix string, t time.Time) (lo, hi string) {
	var a, b [16]byte
	binary.BigEndian.PutUint64(a[:8], uint64(t.UnixMilli())<<16)
	copy(b[:6], a[:6])
	for i := 6; i < 16; i++ {
		b[i] = 0xff
	}
	return prefix + "_" + encoding.EncodeToString(a[:]), prefix + "_" + encoding.EncodeToString(b[:])
}

// Check refuses a ref that a path-joining consumer could read as leaving where it points:
// a ".", ".." or empty segment (segments are split at "/" and ":", so "repo:../x" and
// "case:.." are both caught), a backslash, a percent sign (an escape such as %2e%2e or %2f
// could hide any of these from a check that does not decode it) or a control character.
// Errors describe the rule broken, never the value.
func Check(r string) error {
	if !utf8.ValidString(r) {
		return errors.New("is not valid UTF-8")
	}
	for _, c := range r {
		switch {
		case unicode.IsControl(c):
			return errors.New("holds a control character")
		case c == '\\':
			return errors.New("holds a backslash")
		case c == '%':
			return errors.New("holds a percent sign (refs are not percent-encoded)")
		}
	}
	start := 0
	for i := 0; i <= len(r); i++ {
		if i < len(r) && !isSeparator(r[i]) {
			continue
		}
		switch r[start:i] {
		case "":
			return errors.New("has an empty segment")
		case ".", "..":
			return errors.New(`has a "." or ".." segment`)
		}
		start = i + 1
	}
	return nil
}

func isSeparator(c byte) bool { return c == '/' || c == ':' }
