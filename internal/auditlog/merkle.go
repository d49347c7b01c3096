// Package auditlog is the format of the tenant audit log and everything needed to check it
// offline: entries (canonical JSON, hash-chained), RFC 6962 Merkle trees over their leaf
// hashes, signed checkpoints, inclusion proofs, and the verification of an exported bundle.
// It uses no AWS and no network, so an auditor's copy of `aispm-reports` can verify with
// nothing but the bundle and the tenant's public key.
package auditlog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strings"
)

// Hash is a SHA-256 value: a leaf hash, an interior node or a root.
type Hash [sha256.Size]byte

// String is the product's digest form, "sha256:<hex>".
func (h Hash) String() string { return "sha256:" + hex.EncodeToString(h[:]) }

// ParseHash reads "sha256:<64 hex>".
func ParseHash(s string) (Hash, error) {
	var h Hash
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hexPart) != 2*sha256.Size {
		return h, fmt.Errorf("%q is not a sha256:<64 hex> digest", s)
	}
	if _, err := hex.Decode(h[:], []byte(hexPart)); err != nil {
		return h, fmt.Errorf("%q is not a sha256:<64 hex> digest", s)
	}
	return h, nil
}

// ZeroHash is the chain's start: the previous-entry hash of entry 0.
var ZeroHash Hash

// LeafHash is RFC 6962's leaf hash of an entry's canonical bytes: SHA-256(0x00 || entry).
// The 0x00 prefix keeps a leaf from ever being mistaken for an interior node.
func LeafHash(entry []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(entry)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash is RFC 6962's interior node hash: SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	copy(buf[1:], left[:])
	copy(buf[1+sha256.Size:], right[:])
	return sha256.Sum256(buf[:])
}

// EmptyRoot is the Merkle tree hash of an empty log (SHA-256 of nothing, per RFC 6962).
var EmptyRoot = Hash(sha256.Sum256(nil))

// Frontier is the compact state of a Merkle tree: the roots of the perfect subtrees that
// make up its leaves, largest (leftmost) first, one per set bit of the size. It is what the
// writer keeps between checkpoints and what a checkpoint carries, so the root of a grown
// log can be computed, and a time-ranged bundle verified, without the earlier leaves.
type Frontier struct {
	size   uint64
	hashes []Hash
}

// NewFrontier rebuilds a frontier from a size and its subtree roots.
func NewFrontier(size uint64, hashes []Hash) (Frontier, error) {
	if len(hashes) != bits.OnesCount64(size) {
		return Frontier{}, fmt.Errorf("frontier of a %d-leaf tree has %d hashes, want %d", size, len(hashes), bits.OnesCount64(size))
	}
	return Frontier{size: size, hashes: append([]Hash(nil), hashes...)}, nil
}

// ParseFrontier reads a frontier in its checkpoint form.
func ParseFrontier(size uint64, hashes []string) (Frontier, error) {
	hs := make([]Hash, len(hashes))
	for i, s := range hashes {
		h, err := ParseHash(s)
		if err != nil {
			return Frontier{}, fmt.Errorf("frontier hash %d: %w", i, err)
		}
		hs[i] = h
	}
	return NewFrontier(size, hs)
}

// Size is the number of leaves.
func (f *Frontier) Size() uint64 { return f.size }

// Append adds one leaf: the new leaf merges with every equal-sized subtree to its left, as
// a binary counter carries.
func (f *Frontier) Append(leaf Hash) {
	h := leaf
	for s := f.size; s&1 == 1; s >>= 1 {
		last := len(f.hashes) - 1
		h = NodeHash(f.hashes[last], h)
		f.hashes = f.hashes[:last]
	}
	f.hashes = append(f.hashes, h)
	f.size++
}

// Root is the RFC 6962 Merkle tree hash of the leaves: the subtree roots folded from the
// right, which is exactly MTH's split at the largest power of two below the size.
func (f *Frontier) Root() Hash {
	if len(f.hashes) == 0 {
		return EmptyRoot
	}
	r := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		r = NodeHash(f.hashes[i], r)
	}
	return r
}

// Strings returns the subtree roots in checkpoint form.
func (f *Frontier) Strings() []string {
	out := make([]string, len(f.hashes))
	for i, h := range f.hashes {
		out[i] = h.String()
	}
	return out
}

// Clone copies the frontier.
func (f *Frontier) Clone() Frontier {
	return Frontier{size: f.size, hashes: append([]Hash(nil), f.hashes...)}
}

// RootOf is MTH over leaves (RFC 6962 section 2.1).
func RootOf(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return EmptyRoot
	case 1:
		return leaves[0]
	}
	k := splitPoint(len(leaves))
	return NodeHash(RootOf(leaves[:k]), RootOf(leaves[k:]))
}

// splitPoint is the largest power of two smaller than n (n >= 2).
func splitPoint(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// InclusionPath is RFC 6962's PATH(m, D[n]): the sibling hashes from leaf m up to the root.
func InclusionPath(m int, leaves []Hash) []Hash {
	if len(leaves) <= 1 {
		return nil
	}
	k := splitPoint(len(leaves))
	if m < k {
		return append(InclusionPath(m, leaves[:k]), RootOf(leaves[k:]))
	}
	return append(InclusionPath(m-k, leaves[k:]), RootOf(leaves[:k]))
}

// RootFromInclusion recomputes the root from a leaf, its index, the tree size and its
// audit path (RFC 9162 section 2.1.3.2). A path of the wrong length is an error.
func RootFromInclusion(index, size uint64, leaf Hash, path []Hash) (Hash, error) {
	if index >= size {
		return Hash{}, fmt.Errorf("leaf index %d outside a tree of %d", index, size)
	}
	fn, sn, r := index, size-1, leaf
	for _, p := range path {
		if sn == 0 {
			return Hash{}, fmt.Errorf("audit path longer than the tree of %d leaves allows", size)
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return Hash{}, fmt.Errorf("audit path shorter than the tree of %d leaves needs", size)
	}
	return r, nil
}
