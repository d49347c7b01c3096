package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// SealDue seals every tenant whose pending entries are due (by count or by age).
func (w *Writer) SealDue(ctx context.Context) error {
	q := itemstore.Query{Index: itemstore.GSI1, PK: headsIndex, Limit: itemstore.MaxQueryLimit}
	var errs []error
	for {
		page, err := w.items.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("list audit logs: %w", err)
		}
		for _, it := range page.Items {
			if _, err := w.Seal(ctx, it.GSI1SK, false); err != nil {
				errs = append(errs, err)
			}
		}
		if page.Next == "" {
			return errors.Join(errs...)
		}
		q.Cursor = page.Next
	}
}

// ErrSealInProgress means a forced seal stopped with entries still pending because another
// sealer holds a live lease on the next range: what was asked for is not sealed yet. The
// error is a *LeaseHeldError naming the range and when the lease expires; try again after
// that, or export the prefix already sealed.
var ErrSealInProgress = errors.New("another sealer is sealing the audit log")

// maxClaimConflicts bounds how often a seal re-reads the seal item after losing the race to
// claim it.
const maxClaimConflicts = 10

// Seal writes segments and checkpoints for a tenant's pending entries while they are due,
// or, with force, for everything pending. It returns the number of checkpoints written.
//
// Without force, entries left to a sealer holding a live lease are not an error (that
// sealer is at work). With force the caller wants everything pending sealed (an export), so
// Seal reports ErrSealInProgress instead of returning as if it had sealed it.
func (w *Writer) Seal(ctx context.Context, tenantID string, force bool) (int, error) {
	n := 0
	if err := w.requireSigner(); err != nil {
		return 0, err
	}
	for conflicts := 0; ; {
		job, err := w.claim(ctx, tenantID, force)
		var busy *LeaseHeldError
		switch {
		case errors.Is(err, errNothingDue):
			return n, nil
		case errors.As(err, &busy):
			if force {
				return n, err
			}
			return n, nil
		case errors.Is(err, itemstore.ErrConflict):
			// The seal item changed between our read and our claim: read it again (another
			// sealer's lease, a range committed meanwhile, or nothing left to do).
			if conflicts++; conflicts > maxClaimConflicts {
				return n, err
			}
			continue
		case err != nil:
			return n, err
		}
		conflicts = 0
		if err := w.sealRange(ctx, tenantID, job); err != nil {
			return n, err
		}
		n++
	}
}

// errNothingDue: no entries are pending, or none are due yet (without force).
var errNothingDue = errors.New("nothing to seal")

// LeaseHeldError: another sealer's live lease covers entries Start..End-1 until Until. After
// a crash that sealer may be dead; the lease then runs out and the next seal resumes its range.
type LeaseHeldError struct {
	TenantID   string
	Start, End uint64
	Until      time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("audit log of %s: entries %d..%d are being sealed by another sealer (lease until %s): %v",
		e.TenantID, e.Start, e.End-1, e.Until.Format(time.RFC3339), ErrSealInProgress)
}

func (e *LeaseHeldError) Unwrap() error { return ErrSealInProgress }

// RetryAfter is how long from now until the lease runs out (at least a second).
func (e *LeaseHeldError) RetryAfter(now time.Time) time.Duration {
	return max(e.Until.Sub(now).Round(time.Second), time.Second)
}

// sealJob is a claimed range and the state it continues from.
type sealJob struct {
	state      sealState
	version    int64 // of the seal item holding our lease
	start, end uint64
	policy     Policy
}

// claim decides what to seal next and records a lease on it. It resumes an expired lease's
// range exactly, so a crashed seal is finished with the same segment and checkpoint. It
// fails with errNothingDue, a *LeaseHeldError, or ErrConflict when another writer changed the
// seal item first.
func (w *Writer) claim(ctx context.Context, tenantID string, force bool) (sealJob, error) {
	st, version, err := w.sealed(ctx, tenantID)
	if err != nil {
		return sealJob{}, err
	}
	now := w.clock.Now()
	job := sealJob{state: st}
	if job.policy, err = w.policy(ctx, tenantID); err != nil {
		return sealJob{}, fmt.Errorf("audit policy of %s: %w", tenantID, err)
	}
	if st.Lease != nil {
		until, _ := time.Parse(time.RFC3339Nano, st.Lease.Until)
		if now.Before(until) {
			return sealJob{}, &LeaseHeldError{TenantID: tenantID, Start: st.Lease.Start, End: st.Lease.End, Until: until}
		}
		job.start, job.end = st.Lease.Start, st.Lease.End
	} else {
		h, _, err := w.head(ctx, tenantID)
		if err != nil {
			return sealJob{}, err
		}
		due, err := w.due(ctx, tenantID, st.Size, h.NextSeq, job.policy, now, force)
		if err != nil {
			return sealJob{}, err
		}
		if !due {
			return sealJob{}, errNothingDue
		}
		job.start = st.Size
		job.end = st.Size + min(h.NextSeq-st.Size, uint64(max(job.policy.CheckpointEntries, 1)))
	}
	st.Lease = &lease{Start: job.start, End: job.end, Until: now.Add(w.lease).UTC().Format(time.RFC3339Nano)}
	data, err := json.Marshal(st)
	if err != nil {
		return sealJob{}, err
	}
	it, err := w.items.Put(ctx, versioned(itemstore.Item{PK: logPK(tenantID), SK: sealSK, Data: data}, version))
	if err != nil {
		return sealJob{}, fmt.Errorf("claim audit seal of %s (entries %d..%d): %w", tenantID, job.start, job.end-1, err)
	}
	job.version = it.Version
	return job, nil
}

// due: enough entries are pending, or the oldest pending one has waited long enough.
func (w *Writer) due(ctx context.Context, tenantID string, sealed, next uint64, p Policy, now time.Time, force bool) (bool, error) {
	pending := next - sealed
	switch {
	case pending == 0:
		return false, nil
	case force || pending >= uint64(p.CheckpointEntries):
		return true, nil
	}
	entries, err := w.readEntries(ctx, tenantID, sealed, sealed+1)
	if err != nil {
		return false, err
	}
	oldest, err := loggedAt(entries[0])
	if err != nil {
		return false, err
	}
	return !now.Before(oldest.Add(p.CheckpointEvery)), nil
}

func loggedAt(entry []byte) (time.Time, error) {
	var e auditlog.Entry
	if err := json.Unmarshal(entry, &e); err != nil {
		return time.Time{}, fmt.Errorf("audit entry: %w", err)
	}
	return time.Parse(time.RFC3339Nano, e.LoggedAt)
}

// sealRange writes the segment and checkpoint of a claimed range and commits them.
func (w *Writer) sealRange(ctx context.Context, tenantID string, job sealJob) error {
	entries, err := w.readEntries(ctx, tenantID, job.start, job.end)
	if err != nil {
		return err
	}
	frontier, err := auditlog.ParseFrontier(job.state.Size, job.state.Frontier)
	if err != nil {
		return fmt.Errorf("audit seal state of %s: %w", tenantID, err)
	}
	var seg bytes.Buffer
	var last auditlog.Hash
	for _, e := range entries {
		seg.Write(e)
		seg.WriteByte('\n')
		last = auditlog.LeafHash(e)
		frontier.Append(last)
	}
	ref, err := segmentRef(job.start, entries, seg.Bytes())
	if err != nil {
		return err
	}
	now := w.clock.Now()
	retention := objectstore.Retention{Mode: objectstore.Compliance, Until: now.AddDate(0, 0, job.policy.RetentionDays)}
	if err := w.putOnce(ctx, objectPrefix(tenantID)+"segments/"+ref.Name, seg.Bytes(), "application/x-ndjson", retention); err != nil {
		return err
	}
	cp := auditlog.Checkpoint{
		SchemaVersion: auditlog.CheckpointSchema, TenantRef: "tenant:" + tenantID,
		TreeSize: job.end, RootHash: frontier.Root().String(), Frontier: frontier.Strings(),
		LastEntryHash: last.String(), PrevCheckpointHash: job.state.CheckpointHash, PrevTreeSize: job.start,
		Segment: ref, IssuedAt: now.UTC().Format(time.RFC3339Nano),
	}
	key := objectPrefix(tenantID) + "checkpoints/" + auditlog.CheckpointName(job.end)
	raw, err := w.putCheckpoint(ctx, key, cp, retention)
	if err != nil {
		return err
	}
	return w.commit(ctx, tenantID, job, sealState{
		Size: job.end, Frontier: frontier.Strings(), LastHash: last.String(), CheckpointKey: key,
		CheckpointHash: auditlog.FileHash(raw).String(), CheckpointAt: cp.IssuedAt,
	})
}

func segmentRef(start uint64, entries [][]byte, seg []byte) (auditlog.SegmentRef, error) {
	first, err := loggedAt(entries[0])
	if err != nil {
		return auditlog.SegmentRef{}, err
	}
	last, err := loggedAt(entries[len(entries)-1])
	if err != nil {
		return auditlog.SegmentRef{}, err
	}
	n := uint64(len(entries))
	return auditlog.SegmentRef{
		Name: auditlog.SegmentName(start, n), FirstSeq: start, Count: n, Digest: canonjson.Digest(seg),
		FirstLoggedAt: first.UTC().Format(time.RFC3339Nano), LastLoggedAt: last.UTC().Format(time.RFC3339Nano),
	}, nil
}

func (w *Writer) commit(ctx context.Context, tenantID string, job sealJob, next sealState) error {
	data, err := json.Marshal(next)
	if err != nil {
		return err
	}
	_, err = w.items.Put(ctx, versioned(itemstore.Item{PK: logPK(tenantID), SK: sealSK, Data: data}, job.version))
	if errors.Is(err, itemstore.ErrConflict) {
		// Our lease expired and another sealer took over the same range: it seals it with the
		// same segment and checkpoint (adopting ours, or we adopted its), so nothing is lost.
		// The next claim sees whether it has committed yet.
		w.log.WarnContext(ctx, "audit seal taken over by another sealer", "tenant", tenantID, "tree_size", job.end)
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit audit seal of %s at %d: %w", tenantID, job.end, err)
	}
	return nil
}

// putOnce stores bytes at key; if the key exists (a retried seal), the stored bytes must be
// the same, which the range-derived key and deterministic entries guarantee.
func (w *Writer) putOnce(ctx context.Context, key string, b []byte, contentType string, r objectstore.Retention) error {
	_, err := w.objects.Put(ctx, objectstore.PutInput{Key: key, Body: bytes.NewReader(b), ContentType: contentType, Retention: r})
	if !errors.Is(err, objectstore.ErrExists) {
		if err != nil {
			return fmt.Errorf("seal %s: %w", key, err)
		}
		return nil
	}
	info, err := w.objects.Head(ctx, key, "")
	if err != nil {
		return fmt.Errorf("seal %s: %w", key, err)
	}
	if info.Digest != canonjson.Digest(b) {
		return fmt.Errorf("seal %s: a different object is already stored there (%s): the log and its WORM copy disagree", key, info.Digest)
	}
	return nil
}

// putCheckpoint signs and stores a checkpoint, or adopts the one a crashed seal of the same
// range already stored (a signature may differ between attempts, so bytes cannot be
// compared): it must verify with our key and state the same tree.
func (w *Writer) putCheckpoint(ctx context.Context, key string, cp auditlog.Checkpoint, r objectstore.Retention) ([]byte, error) {
	raw, err := cp.Sign(ctx, w.signer)
	if err != nil {
		return nil, err
	}
	_, err = w.objects.Put(ctx, objectstore.PutInput{Key: key, Body: bytes.NewReader(raw), ContentType: "application/json", Retention: r})
	if err == nil {
		return raw, nil
	}
	if !errors.Is(err, objectstore.ErrExists) {
		return nil, fmt.Errorf("store checkpoint %s: %w", key, err)
	}
	stored, err := w.readObject(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := w.sameCheckpoint(ctx, stored, cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s already exists and cannot be adopted: %w", key, err)
	}
	return stored, nil
}

func (w *Writer) sameCheckpoint(ctx context.Context, stored []byte, want auditlog.Checkpoint) error {
	got, err := auditlog.ParseCheckpoint(stored)
	if err != nil {
		return err
	}
	pub, err := w.signer.PublicKey(ctx)
	if err != nil {
		return err
	}
	if err := got.VerifySignature(pub); err != nil {
		return err
	}
	if got.TenantRef != want.TenantRef || got.TreeSize != want.TreeSize || got.RootHash != want.RootHash ||
		got.PrevCheckpointHash != want.PrevCheckpointHash || got.Segment.Digest != want.Segment.Digest {
		return errors.New("it states another tree")
	}
	return nil
}

func (w *Writer) readObject(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := w.objects.Get(ctx, key, "")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

// readEntries returns the entries start..end-1, checking none is missing.
func (w *Writer) readEntries(ctx context.Context, tenantID string, start, end uint64) ([][]byte, error) {
	out := make([][]byte, 0, end-start)
	err := w.scanEntries(ctx, tenantID, start, end, func(seq uint64, b []byte) error {
		if seq != start+uint64(len(out)) {
			return fmt.Errorf("audit log of %s: entry %d missing", tenantID, start+uint64(len(out)))
		}
		out = append(out, b)
		return nil
	})
	if err == nil && uint64(len(out)) != end-start {
		err = fmt.Errorf("audit log of %s: entries %d..%d incomplete (%d found)", tenantID, start, end-1, len(out))
	}
	return out, err
}

// scanEntries calls fn for each stored entry with start <= seq < end, in order.
func (w *Writer) scanEntries(ctx context.Context, tenantID string, start, end uint64, fn func(seq uint64, b []byte) error) error {
	if end <= start {
		return nil
	}
	q := itemstore.Query{PK: entryPK(tenantID), SKFrom: seqKey(start), SKTo: seqKey(end - 1), Limit: itemstore.MaxQueryLimit}
	for {
		page, err := w.items.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("read audit entries of %s: %w", tenantID, err)
		}
		for _, it := range page.Items {
			seq, err := strconv.ParseUint(it.SK, 10, 64)
			if err != nil {
				return fmt.Errorf("audit entry key %q: %w", it.SK, err)
			}
			if err := fn(seq, it.Data); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.Cursor = page.Next
	}
}
