// Package audittest is the audit writer's suite, run unchanged on the embedded adapters
// (SQLite change feed, filesystem WORM, Ed25519 key) and on the emulators (the DynamoDB
// stream on MiniStack, S3 Object Lock on moto, KMS on MiniStack): exactly-once appends under
// re-delivery, reordering and concurrency, checkpoints by count and by age, crashes between
// the steps of a seal, inclusion proofs, and the tamper suite on an exported bundle.
package audittest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// Store is the item store and its change feed.
type Store interface {
	itemstore.Store
	itemstore.ChangeFeed
}

// Harness is one fresh set of adapters.
type Harness struct {
	Items   Store
	Objects objectstore.Store
	Signer  signer.Signer
	Clock   clock.Clock
	// Sleep lets d pass: a manual clock advance on the embedded family, a real sleep on the
	// emulators.
	Sleep func(d time.Duration)
}

// Test policy: small numbers so every rule triggers in a few dozen entries.
const (
	checkpointEntries = 10
	checkpointEvery   = 2 * time.Second
	leaseTTL          = 2 * time.Second
)

// Run runs the suite; open returns fresh adapters for each subtest.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"AppendSealVerify", testAppendSealVerify},
		{"RedeliveryAndReorder", testRedelivery},
		{"ConcurrentWriters", testConcurrentWriters},
		{"CheckpointByCountAndAge", testCheckpointCadence},
		{"CrashBetweenSegmentAndCheckpoint", testCrashBeforeCheckpoint},
		{"CrashBeforeCommit", testCrashBeforeCommit},
		{"ClaimOutcomeLost", testClaimOutcomeLost},
		{"ExportUnderDeadSealersLease", testExportUnderLease},
		{"ProofRoundTrip", testProof},
		{"TamperSuite", testTamper},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open(t)))
		})
	}
}

type fixture struct {
	h       Harness
	objects *faultyObjects
	items   *faultyItems
	w       *audit.Writer
	poller  *audit.Poller
}

func newFixture(t *testing.T, h Harness) *fixture {
	f := &fixture{h: h, objects: &faultyObjects{Store: h.Objects}, items: &faultyItems{Store: h.Items}}
	f.w = audit.New(audit.Config{
		Items: f.items, Objects: f.objects, Signer: h.Signer, Clock: h.Clock, LeaseTTL: leaseTTL,
		Policy: func(context.Context, string) (audit.Policy, error) {
			return audit.Policy{CheckpointEntries: checkpointEntries, CheckpointEvery: checkpointEvery, RetentionDays: 1}, nil
		},
	})
	f.poller = f.w.NewPoller(h.Items, "audittest", time.Second)
	return f
}

// record writes n evidence records for tenant the way every service does (in a
// transaction), returning their refs.
func (f *fixture) record(t *testing.T, tenant string, n int) []string {
	t.Helper()
	refs := make([]string, 0, n)
	for i := range n {
		rec, err := evidence.New(evidence.Event{TenantID: tenant, Action: evidence.SettingsUpdated, ActorRole: "tenant_admin",
			SubjectRefs: []string{"settings:" + tenant}, Details: map[string]any{"version": i + 1, "note": "<&> kept as written"}}, f.h.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		w, err := rec.Write()
		if err != nil {
			t.Fatal(err)
		}
		if err := f.h.Items.Transact(context.Background(), []itemstore.Write{w}); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, rec.Ref)
	}
	return refs
}

// drain runs the poller until want new entries are in, tolerating a stream that delivers
// records a moment after their write.
func (f *fixture) drain(t *testing.T, want int) audit.Result {
	t.Helper()
	var total audit.Result
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := f.poller.Drain(context.Background())
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
		total.Appended += res.Appended
		total.Duplicates += res.Duplicates
		if total.Appended >= want || time.Now().After(deadline) {
			if total.Appended != want {
				t.Fatalf("appended %d entries, want %d", total.Appended, want)
			}
			return total
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// changes reads every evidence insert from the start of the feed.
func (f *fixture) changes(t *testing.T, want int) []itemstore.Change {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out []itemstore.Change
		cur := ""
		for {
			cs, next, err := f.h.Items.ReadChanges(context.Background(), cur, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Kind == itemstore.Inserted && c.New != nil && evidence.IsRecord(*c.New) {
					out = append(out, c)
				}
			}
			if len(cs) == 0 {
				break
			}
			cur = next
		}
		if len(out) >= want || time.Now().After(deadline) {
			if len(out) != want {
				t.Fatalf("feed holds %d evidence inserts, want %d", len(out), want)
			}
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// export seals everything pending and writes the tenant's whole bundle.
func (f *fixture) export(t *testing.T, tenant string) string {
	t.Helper()
	if _, err := f.w.Seal(context.Background(), tenant, true); err != nil {
		t.Fatalf("seal: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := f.w.ExportBundle(context.Background(), audit.BundleRequest{TenantID: tenant, Dir: dir}); err != nil {
		t.Fatalf("export: %v", err)
	}
	return dir
}

func (f *fixture) pub(t *testing.T) []byte {
	t.Helper()
	pub, err := f.h.Signer.PublicKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func verify(t *testing.T, dir string, pub []byte, wantEntries uint64) auditlog.Report {
	t.Helper()
	rep, err := auditlog.VerifyBundle(dir, auditlog.Options{PublicKey: pub, Deep: true})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Entries != wantEntries || rep.TreeSize != wantEntries {
		t.Fatalf("bundle verified %d entries (tree size %d), want %d", rep.Entries, rep.TreeSize, wantEntries)
	}
	return rep
}

func testAppendSealVerify(t *testing.T, f *fixture) {
	a := f.record(t, "acme", 23)
	f.record(t, "globex", 4)
	res := f.drain(t, 27)
	if res.Duplicates != 0 {
		t.Fatalf("%d duplicates on first delivery", res.Duplicates)
	}
	for i, ref := range a {
		seq, err := f.w.EntryOf(context.Background(), "acme", ref)
		if err != nil || seq != uint64(i) {
			t.Fatalf("%s: entry %d, %v; want %d", ref, seq, err, i)
		}
	}
	if _, err := f.w.EntryOf(context.Background(), "globex", a[0]); !errors.Is(err, audit.ErrUnknownEvidence) {
		t.Fatalf("acme's evidence resolved in globex's log: %v", err)
	}
	rep := verify(t, f.export(t, "acme"), f.pub(t), 23)
	if rep.Checkpoints != 3 || rep.Segments != 3 {
		t.Fatalf("%d checkpoints, %d segments; want 3 and 3 (10, 20, 23)", rep.Checkpoints, rep.Segments)
	}
	verify(t, f.export(t, "globex"), f.pub(t), 4)
}

// testRedelivery replays the feed's records again, shuffled, and in reverse, as a stream
// retrying a failed batch would: nothing may be logged twice or out of place.
func testRedelivery(t *testing.T, f *fixture) {
	f.record(t, "acme", 15)
	f.drain(t, 15)
	cs := f.changes(t, 15)
	shuffled := append([]itemstore.Change(nil), cs...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, batch := range [][]itemstore.Change{cs, shuffled, append(shuffled, cs...)} {
		res := f.w.Apply(context.Background(), batch)
		if res.Err != nil || res.Appended != 0 || res.Duplicates != 15 {
			t.Fatalf("re-delivery: %+v", res)
		}
	}
	// New records arriving in reverse order after a partial redelivery.
	f.record(t, "acme", 6)
	all := f.changes(t, 21)
	late := all[15:]
	rev := []itemstore.Change{late[5], late[4], cs[3], late[3], late[2], late[1], late[0], cs[0]}
	res := f.w.Apply(context.Background(), rev)
	if res.Err != nil || res.Appended != 6 || res.Duplicates != 2 {
		t.Fatalf("late batch: %+v", res)
	}
	verify(t, f.export(t, "acme"), f.pub(t), 21)
}

func testConcurrentWriters(t *testing.T, f *fixture) {
	f.record(t, "acme", 40)
	cs := f.changes(t, 40)
	var wg sync.WaitGroup
	results := make([]audit.Result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each writer gets an overlapping half, as shards re-delivering would.
			part := append(append([]itemstore.Change(nil), cs[i*10:]...), cs[:i*10]...)
			results[i] = f.w.Apply(context.Background(), part[:25])
		}()
	}
	wg.Wait()
	appended := 0
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("writer: %v", r.Err)
		}
		appended += r.Appended
	}
	rest := f.w.Apply(context.Background(), cs)
	if appended+rest.Appended != 40 || rest.Err != nil {
		t.Fatalf("concurrent writers logged %d + %d entries, want 40 in all", appended, rest.Appended)
	}
	verify(t, f.export(t, "acme"), f.pub(t), 40)
}

func testCheckpointCadence(t *testing.T, f *fixture) {
	f.record(t, "acme", 25)
	f.drain(t, 25) // drain seals what is due: two full checkpoints of 10
	dir := filepath.Join(t.TempDir(), "b1")
	b, err := f.w.ExportBundle(context.Background(), audit.BundleRequest{TenantID: "acme", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Checkpoints) != 2 {
		t.Fatalf("after 25 entries: checkpoints %v, want 10 and 20", b.Checkpoints)
	}
	if err := f.w.SealDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.checkpointCount(t, "acme"); n != 2 {
		t.Fatalf("5 fresh entries were sealed before they were due (%d checkpoints)", n)
	}
	f.h.Sleep(checkpointEvery + 100*time.Millisecond)
	if err := f.w.SealDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.checkpointCount(t, "acme"); n != 3 {
		t.Fatalf("after %s: %d checkpoints, want 3", checkpointEvery, n)
	}
	verify(t, f.export(t, "acme"), f.pub(t), 25)
}

func (f *fixture) checkpointCount(t *testing.T, tenant string) int {
	t.Helper()
	infos, err := f.h.Objects.ListVersions(context.Background(), "tenants/"+tenant+"/audit/checkpoints/")
	if err != nil {
		t.Fatal(err)
	}
	return len(infos)
}

func (f *fixture) segmentCount(t *testing.T, tenant string) int {
	t.Helper()
	infos, err := f.h.Objects.ListVersions(context.Background(), "tenants/"+tenant+"/audit/segments/")
	if err != nil {
		t.Fatal(err)
	}
	return len(infos)
}

// testCrashBeforeCheckpoint: the segment is stored, the checkpoint write fails (the
// process dies). Until the lease expires nobody else seals; then the same range is sealed
// again, reusing the stored segment, and more entries arriving meanwhile wait their turn.
func testCrashBeforeCheckpoint(t *testing.T, f *fixture) {
	f.record(t, "acme", 7)
	f.drain(t, 7)
	f.objects.failKey("/checkpoints/")
	if _, err := f.w.Seal(context.Background(), "acme", true); err == nil {
		t.Fatal("seal succeeded through a failing checkpoint write")
	}
	if f.segmentCount(t, "acme") != 1 || f.checkpointCount(t, "acme") != 0 {
		t.Fatal("crash did not leave exactly the segment behind")
	}
	f.record(t, "acme", 5)
	f.drain(t, 5)
	// A forced seal must not pass for one that sealed everything: it names the lease.
	if n, err := f.w.Seal(context.Background(), "acme", true); !errors.Is(err, audit.ErrSealInProgress) || n != 0 {
		t.Fatalf("forced seal under a live lease: %d checkpoints, %v; want 0 and ErrSealInProgress", n, err)
	}
	if err := f.w.SealDue(context.Background()); err != nil {
		t.Fatalf("scheduled seal under a live lease: %v", err)
	}
	f.h.Sleep(leaseTTL + 100*time.Millisecond)
	if n, err := f.w.Seal(context.Background(), "acme", true); err != nil || n != 2 {
		t.Fatalf("recovery: %d checkpoints, %v; want the crashed range then the rest", n, err)
	}
	if f.segmentCount(t, "acme") != 2 {
		t.Fatalf("%d segments after recovery, want 2 (0-6, 7-11)", f.segmentCount(t, "acme"))
	}
	verify(t, f.export(t, "acme"), f.pub(t), 12)
}

// testCrashBeforeCommit: segment and checkpoint are stored, the seal item is not updated.
// The retry adopts the stored checkpoint instead of writing a second one.
func testCrashBeforeCommit(t *testing.T, f *fixture) {
	f.record(t, "acme", 8)
	f.drain(t, 8)
	f.items.failCommit()
	if _, err := f.w.Seal(context.Background(), "acme", true); err == nil {
		t.Fatal("seal succeeded through a failing commit")
	}
	if f.checkpointCount(t, "acme") != 1 {
		t.Fatal("the checkpoint was not written before the failing commit")
	}
	f.h.Sleep(leaseTTL + 100*time.Millisecond)
	if _, err := f.w.Seal(context.Background(), "acme", true); err != nil {
		t.Fatalf("recovery: %v", err)
	}
	if f.checkpointCount(t, "acme") != 1 || f.segmentCount(t, "acme") != 1 {
		t.Fatal("recovery wrote a second checkpoint or segment")
	}
	verify(t, f.export(t, "acme"), f.pub(t), 8)
}

// testClaimOutcomeLost: the store applies a seal claim but reports a conflict (what a
// retried conditional write whose first response was lost looks like when the adapter cannot
// tell). The forced seal must say that entries are left under a lease, not return as if it
// had sealed them; once the lease expires everything is sealed.
func testClaimOutcomeLost(t *testing.T, f *fixture) {
	f.record(t, "acme", 6)
	f.drain(t, 6)
	f.items.loseClaim()
	if n, err := f.w.Seal(context.Background(), "acme", true); !errors.Is(err, audit.ErrSealInProgress) || n != 0 {
		t.Fatalf("forced seal after a claim whose outcome was lost: %d checkpoints, %v; want 0 and ErrSealInProgress", n, err)
	}
	f.h.Sleep(leaseTTL + 100*time.Millisecond)
	if n, err := f.w.Seal(context.Background(), "acme", true); err != nil || n != 1 {
		t.Fatalf("seal after the lease expired: %d checkpoints, %v; want 1", n, err)
	}
	verify(t, f.export(t, "acme"), f.pub(t), 6)
}

// testExportUnderLease: right after a crash a dead sealer's lease still holds the next range.
// The error names the range and when the lease runs out, and the sealed, committed prefix
// exports and verifies meanwhile, without the leased entries.
func testExportUnderLease(t *testing.T, f *fixture) {
	f.record(t, "acme", 4)
	f.drain(t, 4)
	if n, err := f.w.Seal(context.Background(), "acme", true); err != nil || n != 1 {
		t.Fatalf("first seal: %d, %v", n, err)
	}
	f.record(t, "acme", 3)
	f.drain(t, 3)
	f.objects.failKey("/checkpoints/")
	if _, err := f.w.Seal(context.Background(), "acme", true); err == nil {
		t.Fatal("seal succeeded through a failing checkpoint write")
	}
	_, err := f.w.Seal(context.Background(), "acme", true)
	var leased *audit.LeaseHeldError
	if !errors.As(err, &leased) {
		t.Fatalf("forced seal under a live lease: %v; want a *LeaseHeldError", err)
	}
	now := f.h.Clock.Now()
	if leased.Start != 4 || leased.End != 7 || !leased.Until.After(now) || leased.RetryAfter(now) > leaseTTL+time.Second {
		t.Fatalf("lease %+v (now %s): want entries 4..6 held for at most %s", leased, now, leaseTTL)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := f.w.ExportBundle(context.Background(), audit.BundleRequest{TenantID: "acme", Dir: dir}); err != nil {
		t.Fatalf("export of the sealed prefix under a lease: %v", err)
	}
	verify(t, dir, f.pub(t), 4)
}

func testProof(t *testing.T, f *fixture) {
	ctx := context.Background()
	refs := f.record(t, "acme", 13)
	f.drain(t, 13)
	if _, err := f.w.Proof(ctx, "acme", refs[12]); !errors.Is(err, audit.ErrNotCheckpointed) {
		t.Fatalf("proof of an unsealed entry: %v", err)
	}
	if _, err := f.w.Proof(ctx, "acme", "evidence:ev_nope"); !errors.Is(err, audit.ErrUnknownEvidence) {
		t.Fatalf("proof of unknown evidence: %v", err)
	}
	late := f.record(t, "acme", 1)
	if _, err := f.w.Proof(ctx, "acme", late[0]); !errors.Is(err, audit.ErrNotLogged) {
		t.Fatalf("proof of evidence not logged yet: %v", err)
	}
	f.drain(t, 1)
	if _, err := f.w.Seal(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	for _, ref := range append(refs, late...) {
		p, err := f.w.Proof(ctx, "acme", ref)
		if err != nil {
			t.Fatalf("proof of %s: %v", ref, err)
		}
		doc, err := json.MarshalIndent(p, "", "  ") // as a client would save it
		if err != nil {
			t.Fatal(err)
		}
		res, err := auditlog.VerifyProof(doc, f.pub(t))
		if err != nil {
			t.Fatalf("proof of %s does not verify: %v", ref, err)
		}
		if res.EvidenceRef != ref || res.TreeSize != 14 {
			t.Fatalf("proof result %+v", res)
		}
	}
	p, _ := f.w.Proof(ctx, "acme", refs[3])
	doc, _ := json.Marshal(p)
	for name, bad := range map[string]string{
		"changed record":  strings.Replace(string(doc), `"version":4`, `"version":5`, 1),
		"other leaf":      strings.Replace(string(doc), `"leaf_index":3`, `"leaf_index":4`, 1),
		"changed path":    strings.Replace(string(doc), p.AuditPath[0], auditlog.ZeroHash.String(), 1),
		"other tree size": strings.Replace(string(doc), `"tree_size":14`, `"tree_size":15`, 1),
	} {
		if bad == string(doc) {
			t.Fatalf("%s: tamper did not change the proof", name)
		}
		if _, err := auditlog.VerifyProof([]byte(bad), f.pub(t)); err == nil {
			t.Errorf("%s: tampered proof verifies", name)
		}
	}
	other := otherSigner(t)
	otherPub, _ := other.PublicKey(ctx)
	if _, err := auditlog.VerifyProof(doc, otherPub); err == nil {
		t.Error("proof verifies against a key that is not the tenant's")
	}
}

// faultyObjects fails the next Put whose key contains a marker, once.
type faultyObjects struct {
	objectstore.Store
	mu   sync.Mutex
	fail string
}

func (o *faultyObjects) failKey(marker string) { o.mu.Lock(); o.fail = marker; o.mu.Unlock() }

func (o *faultyObjects) Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error) {
	o.mu.Lock()
	hit := o.fail != "" && strings.Contains(in.Key, o.fail)
	if hit {
		o.fail = ""
	}
	o.mu.Unlock()
	if hit {
		return objectstore.Info{}, fmt.Errorf("injected crash before storing %s", in.Key)
	}
	return o.Store.Put(ctx, in)
}

// faultyItems fails the next seal commit (a seal item without a lease), once; or applies the
// next seal claim (a seal item with a lease) and reports a conflict, once.
type faultyItems struct {
	Store
	mu       sync.Mutex
	fail     bool
	loseNext bool
}

func (s *faultyItems) failCommit() { s.mu.Lock(); s.fail = true; s.mu.Unlock() }
func (s *faultyItems) loseClaim()  { s.mu.Lock(); s.loseNext = true; s.mu.Unlock() }

func (s *faultyItems) Put(ctx context.Context, w itemstore.Write) (itemstore.Item, error) {
	s.mu.Lock()
	claim := w.Item.SK == "SEAL" && strings.Contains(string(w.Item.Data), `"lease"`)
	hit := s.fail && w.Item.SK == "SEAL" && !claim
	if hit {
		s.fail = false
	}
	lose := s.loseNext && claim
	if lose {
		s.loseNext = false
	}
	s.mu.Unlock()
	if hit {
		return itemstore.Item{}, errors.New("injected crash before committing the seal")
	}
	it, err := s.Store.Put(ctx, w)
	if lose && err == nil {
		return itemstore.Item{}, fmt.Errorf("injected lost response of an applied claim: %w", itemstore.ErrConflict)
	}
	return it, err
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
