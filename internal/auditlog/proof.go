package auditlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
)

// Proof shows that one evidence record is entry LeafIndex of a tenant's log whose root a
// signed checkpoint states. It carries everything needed to check it offline.
type Proof struct {
	SchemaVersion string          `json:"schema_version"`
	EvidenceRef   string          `json:"evidence_ref"`
	TenantRef     string          `json:"tenant_ref"`
	LeafIndex     uint64          `json:"leaf_index"`
	LeafHash      string          `json:"leaf_hash"`
	Entry         json.RawMessage `json:"entry"`
	TreeSize      uint64          `json:"tree_size"`
	AuditPath     []string        `json:"audit_path"`
	Checkpoint    json.RawMessage `json:"checkpoint"`
	PublicKey     string          `json:"public_key"` // PEM
}

// ProofResult is what a verified proof establishes.
type ProofResult struct {
	EvidenceRef    string
	TenantRef      string
	LeafIndex      uint64
	TreeSize       uint64
	RootHash       string
	IssuedAt       string
	KeyFingerprint string
}

// NewProof builds the inclusion proof of entry index among leaves, against the checkpoint
// (file bytes) whose tree size is len(leaves).
func NewProof(entry []byte, index uint64, leaves []Hash, checkpoint, publicKeyDER []byte) (Proof, error) {
	var e Entry
	if err := json.Unmarshal(entry, &e); err != nil {
		return Proof{}, fmt.Errorf("proof entry: %w", err)
	}
	if index >= uint64(len(leaves)) || LeafHash(entry) != leaves[index] {
		return Proof{}, fmt.Errorf("entry %d is not leaf %d of a %d-leaf tree", e.Seq, index, len(leaves))
	}
	path := InclusionPath(int(index), leaves)
	p := Proof{
		SchemaVersion: ProofSchema, EvidenceRef: e.EvidenceRef, TenantRef: e.TenantRef,
		LeafIndex: index, LeafHash: leaves[index].String(), Entry: entry,
		TreeSize: uint64(len(leaves)), AuditPath: make([]string, len(path)),
		Checkpoint: checkpoint, PublicKey: string(EncodePublicKey(publicKeyDER)),
	}
	for i, h := range path {
		p.AuditPath[i] = h.String()
	}
	return p, nil
}

// VerifyProof checks a proof document offline: the entry and its evidence record, the
// leaf hash, the audit path up to the checkpoint's root, and the checkpoint's signature.
// trustedKey (PKIX DER), when set, must be the key the proof carries.
func VerifyProof(doc []byte, trustedKey []byte) (ProofResult, error) {
	var p Proof
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.SchemaVersion != ProofSchema {
		return ProofResult{}, fmt.Errorf("not an %s document", ProofSchema)
	}
	pub, err := DecodePublicKey([]byte(p.PublicKey))
	if err != nil {
		return ProofResult{}, fmt.Errorf("public_key: %w", err)
	}
	if trustedKey != nil && !bytes.Equal(trustedKey, pub) {
		return ProofResult{}, fmt.Errorf("proof is signed for key %s, not the trusted key %s", KeyFingerprint(pub), KeyFingerprint(trustedKey))
	}
	entry, err := p.checkEntry()
	if err != nil {
		return ProofResult{}, err
	}
	cp, err := p.checkCheckpoint(pub)
	if err != nil {
		return ProofResult{}, err
	}
	if err := p.checkPath(entry, cp); err != nil {
		return ProofResult{}, err
	}
	return ProofResult{EvidenceRef: p.EvidenceRef, TenantRef: p.TenantRef, LeafIndex: p.LeafIndex, TreeSize: p.TreeSize,
		RootHash: cp.RootHash, IssuedAt: cp.IssuedAt, KeyFingerprint: KeyFingerprint(pub)}, nil
}

// checkEntry returns the entry's canonical bytes after checking them and their record. The
// proof may hold the entry re-encoded by a JSON tool; its canonical form is what was hashed.
func (p Proof) checkEntry() ([]byte, error) {
	entry, err := canonjson.Canonicalize(p.Entry)
	if err != nil {
		return nil, fmt.Errorf("entry: %w", err)
	}
	if err := CheckEntry(entry, p.TenantRef); err != nil {
		return nil, fmt.Errorf("entry: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(entry, &e); err != nil {
		return nil, fmt.Errorf("entry: %w", err)
	}
	switch {
	case e.EvidenceRef != p.EvidenceRef:
		return nil, fmt.Errorf("entry holds %s, the proof claims %s", e.EvidenceRef, p.EvidenceRef)
	case e.Seq != p.LeafIndex:
		return nil, fmt.Errorf("entry has seq %d, the proof claims leaf %d", e.Seq, p.LeafIndex)
	case LeafHash(entry).String() != p.LeafHash:
		return nil, errors.New("leaf_hash is not the hash of the entry")
	}
	return entry, nil
}

func (p Proof) checkCheckpoint(pub []byte) (Checkpoint, error) {
	raw, err := canonjson.Canonicalize(p.Checkpoint)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	cp, err := ParseCheckpoint(raw)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	if err := cp.VerifySignature(pub); err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	switch {
	case cp.TenantRef != p.TenantRef:
		return Checkpoint{}, fmt.Errorf("checkpoint is of %s, the proof of %s", cp.TenantRef, p.TenantRef)
	case cp.TreeSize != p.TreeSize:
		return Checkpoint{}, fmt.Errorf("checkpoint has tree size %d, the proof %d", cp.TreeSize, p.TreeSize)
	}
	return cp, nil
}

func (p Proof) checkPath(entry []byte, cp Checkpoint) error {
	path := make([]Hash, len(p.AuditPath))
	for i, s := range p.AuditPath {
		h, err := ParseHash(s)
		if err != nil {
			return fmt.Errorf("audit_path[%d]: %w", i, err)
		}
		path[i] = h
	}
	root, err := RootFromInclusion(p.LeafIndex, p.TreeSize, LeafHash(entry), path)
	if err != nil {
		return err
	}
	if root.String() != cp.RootHash {
		return fmt.Errorf("audit path leads to root %s, the checkpoint signed %s: the entry is not in the log the checkpoint covers", root, cp.RootHash)
	}
	return nil
}
