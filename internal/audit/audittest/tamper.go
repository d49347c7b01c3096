package audittest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/keysigner"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

func otherSigner(t *testing.T) signer.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := keysigner.New(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Segments of the 23-entry bundle the tamper cases start from.
var (
	seg0 = filepath.Join(auditlog.SegmentsDir, auditlog.SegmentName(0, 10))
	seg1 = filepath.Join(auditlog.SegmentsDir, auditlog.SegmentName(10, 10))
	seg2 = filepath.Join(auditlog.SegmentsDir, auditlog.SegmentName(20, 3))
	cp20 = filepath.Join(auditlog.CheckpointsDir, auditlog.CheckpointName(20))
)

type tamperCase struct {
	name   string
	tamper func(t *testing.T, dir string)
	file   string // where the failure must point
	seq    int64  // the first bad entry, -1 when the failure is not about one entry
	reason string // a phrase the message must hold
}

func tamperCases(f *fixture) []tamperCase {
	return []tamperCase{
		{"flip one byte in an entry's record", func(t *testing.T, d string) { flip(t, d, seg1, 4, 0.6) }, seg1, 14, "evidence record"},
		{"flip one byte in the last entry", func(t *testing.T, d string) { flip(t, d, seg2, 2, 0.6) }, seg2, 22, "last_entry_hash"},
		{"flip one byte of a sequence number", func(t *testing.T, d string) { flipSeq(t, d, seg0, 5) }, seg0, 5, "expected"},
		{"flip one byte of a chain hash", func(t *testing.T, d string) { flipAt(t, d, seg1, 2, 30) }, seg1, 12, "chain_prev_hash"},
		{"drop an entry", func(t *testing.T, d string) {
			editLines(t, d, seg1, func(l [][]byte) [][]byte { return append(l[:4:4], l[5:]...) })
		}, seg1, 14, "removed"},
		{"swap two entries", func(t *testing.T, d string) {
			editLines(t, d, seg1, func(l [][]byte) [][]byte { l[4], l[5] = l[5], l[4]; return l })
		}, seg1, 14, "reordered"},
		{"truncate a segment mid-entry", func(t *testing.T, d string) { truncate(t, d, seg1, 0.55) }, seg1, 15, "truncated"},
		{"truncate a segment at an entry boundary", func(t *testing.T, d string) {
			editLines(t, d, seg0, func(l [][]byte) [][]byte { return l[:8] })
		}, seg0, 8, "truncated"},
		{"replace a checkpoint with one signed by another key", func(t *testing.T, d string) { resign(t, d, cp20, otherSigner(t)) }, cp20, -1, "not signed by the tenant's key"},
		{"remove a checkpoint and its segment", func(t *testing.T, d string) { removeCheckpoint(t, d, cp20, seg1) },
			filepath.Join(auditlog.CheckpointsDir, auditlog.CheckpointName(23)), -1, "prev_checkpoint_hash"},
		{"rewrite an entry and rebuild the chain after it", func(t *testing.T, d string) { rewriteChain(t, d, seg1, 4) }, seg1, 19, "chain rebuilt"},
	}
}

func testTamper(t *testing.T, f *fixture) {
	f.record(t, "acme", 23)
	f.drain(t, 23)
	clean := f.export(t, "acme")
	pub := f.pub(t)
	verify(t, clean, pub, 23)
	for _, tc := range tamperCases(f) {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, clean)
			tc.tamper(t, dir)
			for _, deep := range []bool{false, true} {
				_, err := auditlog.VerifyBundle(dir, auditlog.Options{PublicKey: pub, Deep: deep})
				var fail *auditlog.Failure
				if !errors.As(err, &fail) {
					t.Fatalf("deep=%v: tampered bundle verified or failed without a location: %v", deep, err)
				}
				if deep {
					t.Logf("reported: %v", err) // the messages an auditor sees, in the test log
				}
				if fail.File != filepath.ToSlash(tc.file) || fail.Seq != tc.seq || !strings.Contains(fail.Reason, tc.reason) {
					if deep && tc.seq >= 0 && fail.Seq == tc.seq {
						continue // deep mode may name a more specific reason for the same entry
					}
					t.Fatalf("deep=%v: got %q (file %s, seq %d); want file %s, seq %d, reason with %q",
						deep, err, fail.File, fail.Seq, tc.file, tc.seq, tc.reason)
				}
			}
		})
	}
	// A pinned key that is not the bundle's key fails up front.
	otherPub, _ := otherSigner(t).PublicKey(context.Background())
	if _, err := auditlog.VerifyBundle(clean, auditlog.Options{PublicKey: otherPub}); err == nil {
		t.Fatal("bundle verified against a key that is not the tenant's")
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func editLines(t *testing.T, dir, file string, edit func([][]byte) [][]byte) {
	t.Helper()
	path := filepath.Join(dir, file)
	lines := edit(readLines(t, path))
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// flip changes one byte at a fraction of line n's length.
func flip(t *testing.T, dir, file string, n int, at float64) {
	editLines(t, dir, file, func(l [][]byte) [][]byte {
		l[n] = bytes.Clone(l[n])
		i := int(float64(len(l[n])) * at)
		for l[n][i] == '"' || l[n][i] == '\\' { // keep it the same kind of change: one value byte
			i++
		}
		l[n][i] ^= 0x01
		return l
	})
}

func flipAt(t *testing.T, dir, file string, n, i int) {
	editLines(t, dir, file, func(l [][]byte) [][]byte {
		l[n] = bytes.Clone(l[n])
		l[n][i] ^= 0x01
		return l
	})
}

func flipSeq(t *testing.T, dir, file string, n int) {
	editLines(t, dir, file, func(l [][]byte) [][]byte {
		i := bytes.Index(l[n], []byte(`"chain_seq":`)) + len(`"chain_seq":`)
		l[n] = bytes.Clone(l[n])
		l[n][i] ^= 0x03 // '5' -> '6'
		return l
	})
}

func truncate(t *testing.T, dir, file string, at float64) {
	path := filepath.Join(dir, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:int(float64(len(b))*at)], 0o644); err != nil {
		t.Fatal(err)
	}
}

func resign(t *testing.T, dir, file string, s signer.Signer) {
	path := filepath.Join(dir, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := auditlog.ParseCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cp.Sign(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeCheckpoint(t *testing.T, dir, cpFile, segFile string) {
	for _, f := range []string{cpFile, segFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, auditlog.BundleFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b auditlog.Bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, c := range b.Checkpoints {
		if c != filepath.Base(cpFile) {
			keep = append(keep, c)
		}
	}
	b.Checkpoints = keep
	out, _ := json.Marshal(b)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteChain changes entry n's logged_at and recomputes every later chain_prev_hash of the
// segment, as a forger with write access to the files would: only the signed root can tell.
func rewriteChain(t *testing.T, dir, file string, n int) {
	editLines(t, dir, file, func(l [][]byte) [][]byte {
		var e auditlog.Entry
		if err := json.Unmarshal(l[n], &e); err != nil {
			t.Fatal(err)
		}
		e.LoggedAt = "2020-01-01T00:00:00Z"
		for i := n; i < len(l); i++ {
			if i > n {
				if err := json.Unmarshal(l[i], &e); err != nil {
					t.Fatal(err)
				}
				e.PrevHash = auditlog.LeafHash(bytes.TrimSuffix(l[i-1], []byte("\n"))).String()
			}
			b, err := e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			l[i] = append(b, '\n')
		}
		return l
	})
}
