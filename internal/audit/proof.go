package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Proof returns the inclusion proof of one evidence record against the tenant's latest
// signed checkpoint. It reads the leaves up to that checkpoint, so its cost grows with the
// log (a million entries is a few seconds); see docs/audit.md.
func (w *Writer) Proof(ctx context.Context, tenantID, evidenceRef string) (auditlog.Proof, error) {
	if err := w.requireSigner(); err != nil {
		return auditlog.Proof{}, err
	}
	id := evidenceID(evidenceRef)
	var ref refItem
	version, err := w.loadJSON(ctx, refPK(tenantID), id, &ref)
	if err != nil {
		return auditlog.Proof{}, fmt.Errorf("audit entry of %s: %w", evidenceRef, err)
	}
	if version == 0 {
		return auditlog.Proof{}, w.notLogged(ctx, tenantID, id)
	}
	st, _, err := w.sealed(ctx, tenantID)
	if err != nil {
		return auditlog.Proof{}, err
	}
	if ref.Seq >= st.Size || st.CheckpointKey == "" {
		return auditlog.Proof{}, ErrNotCheckpointed
	}
	var entry []byte
	leaves := make([]auditlog.Hash, 0, st.Size)
	err = w.scanEntries(ctx, tenantID, 0, st.Size, func(seq uint64, b []byte) error {
		if seq != uint64(len(leaves)) {
			return fmt.Errorf("audit log of %s: entry %d missing", tenantID, len(leaves))
		}
		if seq == ref.Seq {
			entry = b
		}
		leaves = append(leaves, auditlog.LeafHash(b))
		return nil
	})
	if err != nil {
		return auditlog.Proof{}, err
	}
	checkpoint, err := w.readObject(ctx, st.CheckpointKey)
	if err != nil {
		return auditlog.Proof{}, err
	}
	pub, err := w.signer.PublicKey(ctx)
	if err != nil {
		return auditlog.Proof{}, fmt.Errorf("checkpoint public key: %w", err)
	}
	return auditlog.NewProof(entry, ref.Seq, leaves, checkpoint, pub)
}

// notLogged tells an unknown evidence ref from one the writer has not reached yet.
func (w *Writer) notLogged(ctx context.Context, tenantID, id string) error {
	_, err := w.items.Get(ctx, evidence.PartitionKey(tenantID), id)
	switch {
	case errors.Is(err, itemstore.ErrNotFound):
		return ErrUnknownEvidence
	case err != nil:
		return fmt.Errorf("evidence %s: %w", id, err)
	}
	return ErrNotLogged
}

// EntryOf returns the sequence number of an evidence record's entry, for callers that
// check coverage (every evidence record resolves to a log entry).
func (w *Writer) EntryOf(ctx context.Context, tenantID, evidenceRef string) (uint64, error) {
	var ref refItem
	version, err := w.loadJSON(ctx, refPK(tenantID), evidenceID(evidenceRef), &ref)
	if err != nil {
		return 0, err
	}
	if version == 0 {
		return 0, w.notLogged(ctx, tenantID, evidenceID(evidenceRef))
	}
	return ref.Seq, nil
}

// Checkpointed is a tenant's latest signed checkpoint as the seal item records it.
type Checkpointed struct {
	Key  string // its file in the WORM store
	Hash string // sha256 of that file, which the next checkpoint names as its predecessor
}

// LatestCheckpoint returns the tenant's latest signed checkpoint, nil before the first seal.
// It reads the seal item only (no WORM object, no key), so a function that may only read the
// table can name the checkpoint.
func (w *Writer) LatestCheckpoint(ctx context.Context, tenantID string) (*Checkpointed, error) {
	st, _, err := w.sealed(ctx, tenantID)
	if err != nil || st.CheckpointKey == "" {
		return nil, err
	}
	return &Checkpointed{Key: st.CheckpointKey, Hash: st.CheckpointHash}, nil
}
