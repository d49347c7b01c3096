// Package ref makes the opaque references the product hands out ("<kind>:<id>"). Ids sort by
// creation time (a millisecond prefix) and carry 80 random bits, so they are unguessable and
// list in creation order from a key-ordered store.
package ref

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new time-ordered id such as "ev_01jd3k5m9q2r8t7v6w5x4y3z2a".
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand never fails on supported platforms
	return prefix + "_" + encoding.EncodeToString(b[:])
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
