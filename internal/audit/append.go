package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Result is what one Apply did.
type Result struct {
	Appended   int // new log entries
	Duplicates int // evidence records already in the log (re-delivered)
	Ignored    int // changes that are not evidence-record inserts
	Rejected   int // evidence records that fail their own digest: logged, never retried
	// Failed lists the indexes (into the changes given) that were not applied and must be
	// delivered again; Err is the first cause.
	Failed  []int
	Err     error
	Tenants []string // tenants that got entries, for sealing
}

// pending is one evidence record on its way into the log.
type pending struct {
	index int // into the changes of the Apply call
	rec   evidence.Record
	raw   []byte // the record's canonical JSON
}

// maxPerTransact: each entry takes two writes (entry, dedupe item), the head one more.
const maxPerTransact = (itemstore.MaxTransactWrites - 1) / 2

// maxConflictRetries bounds how often a chunk is retried when another writer moved the head.
const maxConflictRetries = 20

// Apply appends every evidence-record insert among changes to its tenant's log. Changes may
// arrive in any order and any number of times: each record is logged once, at the sequence
// number it got when first appended, so a re-delivery never moves or repeats an entry.
func (w *Writer) Apply(ctx context.Context, changes []itemstore.Change) Result {
	var res Result
	byTenant := map[string][]pending{}
	for i, c := range changes {
		p, ok := w.evidenceInsert(ctx, c, &res)
		if !ok {
			continue
		}
		p.index = i
		tenant := strings.TrimPrefix(p.rec.TenantRef, "tenant:")
		byTenant[tenant] = append(byTenant[tenant], p)
	}
	tenants := make([]string, 0, len(byTenant))
	for t := range byTenant {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		added, dups, err := w.append(ctx, t, byTenant[t])
		res.Appended += added
		res.Duplicates += dups
		if err != nil {
			for _, p := range byTenant[t] {
				res.Failed = append(res.Failed, p.index)
			}
			res.Err = cmp.Or(res.Err, err)
			continue
		}
		res.Tenants = append(res.Tenants, t)
	}
	slices.Sort(res.Failed)
	return res
}

// evidenceInsert keeps the inserts of evidence records whose digest holds.
func (w *Writer) evidenceInsert(ctx context.Context, c itemstore.Change, res *Result) (pending, bool) {
	if c.New == nil || !evidence.IsRecord(*c.New) {
		res.Ignored++
		return pending{}, false
	}
	if c.Kind != itemstore.Inserted {
		// Evidence is written once, IfAbsent; a later write to it is not evidence of anything
		// but a tampered store, and the log keeps the original.
		w.log.ErrorContext(ctx, "evidence record changed after it was written; the log keeps the original", "pk", c.PK, "sk", c.SK)
		res.Ignored++
		return pending{}, false
	}
	var rec evidence.Record
	raw, err := canonjson.Canonicalize(c.New.Data)
	if err == nil {
		err = json.Unmarshal(raw, &rec)
	}
	if err == nil {
		err = rec.Verify()
	}
	if err == nil && evidence.PartitionKey(strings.TrimPrefix(rec.TenantRef, "tenant:")) != c.PK {
		err = fmt.Errorf("record of %s stored under %s", rec.TenantRef, c.PK)
	}
	if err != nil {
		w.log.ErrorContext(ctx, "evidence record rejected by the audit writer", "pk", c.PK, "sk", c.SK, "err", err)
		res.Rejected++
		return pending{}, false
	}
	return pending{rec: rec, raw: raw}, true
}

// append logs recs for one tenant, in the order the feed delivered them (commit order on
// the embedded feed, shard order in a stream), and returns how many were new and how many
// were logged before.
func (w *Writer) append(ctx context.Context, tenantID string, recs []pending) (int, int, error) {
	recs = firstOfEachRef(recs)
	added, dups, conflicts := 0, 0, 0
	for len(recs) > 0 {
		chunk := recs[:min(len(recs), maxPerTransact)]
		err := w.appendChunk(ctx, tenantID, chunk)
		if err == nil {
			added += len(chunk)
			recs, conflicts = recs[len(chunk):], 0
			continue
		}
		if !errors.Is(err, itemstore.ErrConflict) {
			return added, dups, err
		}
		keep, err := w.dropLogged(ctx, tenantID, chunk)
		if err != nil {
			return added, dups, err
		}
		if len(keep) == len(chunk) {
			// Nothing was logged already: another writer moved the head. Read it again.
			if conflicts++; conflicts > maxConflictRetries {
				return added, dups, fmt.Errorf("audit log of %s: head kept moving: %w", tenantID, itemstore.ErrConflict)
			}
			time.Sleep(time.Duration(conflicts) * 5 * time.Millisecond)
		}
		dups += len(chunk) - len(keep)
		recs = append(keep, recs[len(chunk):]...)
	}
	return added, dups, nil
}

// appendChunk writes entries for recs after the current head, in one transaction.
func (w *Writer) appendChunk(ctx context.Context, tenantID string, recs []pending) error {
	h, version, err := w.head(ctx, tenantID)
	if err != nil {
		return err
	}
	prev, err := auditlog.ParseHash(h.LastHash)
	if err != nil {
		return fmt.Errorf("audit head of %s: %w", tenantID, err)
	}
	loggedAt := w.clock.Now().UTC().Format(time.RFC3339Nano)
	writes := make([]itemstore.Write, 0, 2*len(recs)+1)
	for i, p := range recs {
		seq := h.NextSeq + uint64(i)
		b, err := auditlog.Entry{
			PrevHash: prev.String(), Seq: seq, EvidenceDigest: p.rec.Digest, EvidenceRef: p.rec.Ref,
			LoggedAt: loggedAt, Record: p.raw, SchemaVersion: auditlog.EntrySchema, TenantRef: p.rec.TenantRef,
		}.Encode()
		if err != nil {
			return err
		}
		ref, _ := json.Marshal(refItem{Seq: seq})
		writes = append(writes,
			itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: itemstore.Item{PK: refPK(tenantID), SK: evidenceID(p.rec.Ref), Data: ref}},
			itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: itemstore.Item{PK: entryPK(tenantID), SK: seqKey(seq), Data: b}})
		prev = auditlog.LeafHash(b)
	}
	next, _ := json.Marshal(head{NextSeq: h.NextSeq + uint64(len(recs)), LastHash: prev.String()})
	writes = append(writes, versioned(itemstore.Item{PK: logPK(tenantID), SK: headSK, GSI1PK: headsIndex, GSI1SK: tenantID, Data: next}, version))
	if err := w.items.Transact(ctx, writes); err != nil {
		return fmt.Errorf("append %d entries to the audit log of %s: %w", len(recs), tenantID, err)
	}
	return nil
}

// firstOfEachRef drops later copies of a record delivered twice in one batch.
func firstOfEachRef(recs []pending) []pending {
	seen := make(map[string]bool, len(recs))
	out := recs[:0:0]
	for _, p := range recs {
		if !seen[p.rec.Ref] {
			seen[p.rec.Ref] = true
			out = append(out, p)
		}
	}
	return out
}

type refItem struct {
	Seq uint64 `json:"seq"`
}

func evidenceID(ref string) string { return strings.TrimPrefix(ref, "evidence:") }

// dropLogged returns the records of chunk that are not in the log yet.
func (w *Writer) dropLogged(ctx context.Context, tenantID string, chunk []pending) ([]pending, error) {
	keep := make([]pending, 0, len(chunk))
	for _, p := range chunk {
		_, err := w.items.Get(ctx, refPK(tenantID), evidenceID(p.rec.Ref))
		switch {
		case errors.Is(err, itemstore.ErrNotFound):
			keep = append(keep, p)
		case err != nil:
			return nil, fmt.Errorf("audit dedupe lookup of %s: %w", p.rec.Ref, err)
		}
	}
	return keep, nil
}
