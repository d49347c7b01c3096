// Command benchaudit writes a synthetic audit log bundle of N entries (real evidence
// records, hash chain, RFC 6962 checkpoints signed with a fresh Ed25519 key every -every
// entries) for the offline verification benchmark in scripts/bench-audit.sh. It builds the
// bundle with the same auditlog code the writer uses, without the item store, so a
// million entries take seconds instead of a full append run.
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/keysigner"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

func main() {
	n := flag.Int("n", 1_000_000, "entries")
	every := flag.Int("every", 1000, "entries per segment and checkpoint")
	out := flag.String("out", "", "bundle folder to create")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: benchaudit -out DIR [-n N] [-every K]")
		os.Exit(2)
	}
	if err := run(*out, *n, *every); err != nil {
		fmt.Fprintln(os.Stderr, "benchaudit:", err)
		os.Exit(1)
	}
}

type gen struct {
	dir      string
	s        *keysigner.Signer
	frontier auditlog.Frontier
	last     auditlog.Hash
	prevCP   []byte
	prevSize uint64
	names    []string
	now      time.Time
}

func run(dir string, n, every int) error {
	for _, sub := range []string{auditlog.CheckpointsDir, auditlog.SegmentsDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := keysigner.New(priv)
	if err != nil {
		return err
	}
	g := &gen{dir: dir, s: s, now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for start := 0; start < n; start += every {
		if err := g.segment(uint64(start), uint64(min(every, n-start))); err != nil {
			return err
		}
	}
	return g.finish()
}

func (g *gen) segment(first, count uint64) error {
	name := auditlog.SegmentName(first, count)
	f, err := os.Create(filepath.Join(g.dir, auditlog.SegmentsDir, name))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var all []byte
	var firstAt, lastAt string
	for seq := first; seq < first+count; seq++ {
		b, at, err := g.entry(seq)
		if err != nil {
			return err
		}
		if seq == first {
			firstAt = at
		}
		lastAt = at
		w.Write(b)
		w.WriteByte('\n')
		all = append(append(all, b...), '\n')
		g.last = auditlog.LeafHash(b)
		g.frontier.Append(g.last)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return g.checkpoint(auditlog.SegmentRef{Name: name, FirstSeq: first, Count: count, Digest: canonjson.Digest(all),
		FirstLoggedAt: firstAt, LastLoggedAt: lastAt})
}

func (g *gen) entry(seq uint64) ([]byte, string, error) {
	g.now = g.now.Add(time.Second)
	// Built like evidence.New builds it, minus the redaction scan (these fields are fixed
	// and clean), which would make a million records take minutes.
	rec := evidence.Record{SchemaVersion: evidence.SchemaVersion, Ref: ref.Make("evidence", ref.NewID("ev", g.now)),
		TenantRef: "tenant:bench", Action: evidence.IngestAccepted, ActorRole: "role:report_operator",
		SubjectRefs: []string{fmt.Sprintf("segment:seg_%012d", seq)},
		Details:     map[string]any{"events": 90, "segment_digest": canonjson.Digest([]byte(fmt.Sprint(seq)))},
		OccurredAt:  g.now.Format(time.RFC3339Nano)}
	d, err := canonjson.DigestOf(rec)
	if err != nil {
		return nil, "", err
	}
	rec.Digest = d
	raw, err := canonjson.Marshal(rec)
	if err != nil {
		return nil, "", err
	}
	at := g.now.Format(time.RFC3339Nano)
	b, err := auditlog.Entry{PrevHash: g.last.String(), Seq: seq, EvidenceDigest: rec.Digest, EvidenceRef: rec.Ref,
		LoggedAt: at, Record: raw, SchemaVersion: auditlog.EntrySchema, TenantRef: rec.TenantRef}.Encode()
	return b, at, err
}

func (g *gen) checkpoint(ref auditlog.SegmentRef) error {
	prev := auditlog.ZeroHash.String()
	if g.prevCP != nil {
		prev = auditlog.FileHash(g.prevCP).String()
	}
	cp := auditlog.Checkpoint{SchemaVersion: auditlog.CheckpointSchema, TenantRef: "tenant:bench",
		TreeSize: g.frontier.Size(), RootHash: g.frontier.Root().String(), Frontier: g.frontier.Strings(),
		LastEntryHash: g.last.String(), PrevCheckpointHash: prev, PrevTreeSize: g.prevSize, Segment: ref,
		IssuedAt: g.now.Format(time.RFC3339Nano)}
	raw, err := cp.Sign(context.Background(), g.s)
	if err != nil {
		return err
	}
	name := auditlog.CheckpointName(cp.TreeSize)
	g.names, g.prevCP, g.prevSize = append(g.names, name), raw, cp.TreeSize
	return os.WriteFile(filepath.Join(g.dir, auditlog.CheckpointsDir, name), raw, 0o644)
}

func (g *gen) finish() error {
	pub, _ := g.s.PublicKey(context.Background())
	b := auditlog.Bundle{SchemaVersion: auditlog.BundleSchema, TenantRef: "tenant:bench", CreatedAt: g.now.Format(time.RFC3339),
		KeyID: g.s.KeyID(), Algorithm: g.s.Algorithm(), PublicKeyFingerprint: auditlog.KeyFingerprint(pub),
		Checkpoints: g.names, Manifests: []string{}}
	doc, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(g.dir, auditlog.BundleFile), doc, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(g.dir, auditlog.PublicKeyFile), auditlog.EncodePublicKey(pub), 0o644)
}
