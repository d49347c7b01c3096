package auditlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// Checkpoint is a signed statement of the log at one size: its Merkle root, its frontier,
// the hash of the last entry, the segment it seals and the checkpoint before it. Its file is
// the canonical JSON of all of it, signature included; the next checkpoint names the
// SHA-256 of that file, so checkpoints form a chain of their own.
type Checkpoint struct {
	SchemaVersion      string     `json:"schema_version"`
	TenantRef          string     `json:"tenant_ref"`
	TreeSize           uint64     `json:"tree_size"`
	RootHash           string     `json:"root_hash"`
	Frontier           []string   `json:"frontier"`
	LastEntryHash      string     `json:"last_entry_hash"`
	PrevCheckpointHash string     `json:"prev_checkpoint_hash"`
	PrevTreeSize       uint64     `json:"prev_tree_size"`
	Segment            SegmentRef `json:"segment"`
	IssuedAt           string     `json:"issued_at"`
	KeyID              string     `json:"key_id"`
	Algorithm          string     `json:"algorithm"`
	Signature          string     `json:"signature,omitempty"` // base64 of the signature over SignedMessage
}

// SegmentRef describes the segment a checkpoint seals: entries FirstSeq..FirstSeq+Count-1.
type SegmentRef struct {
	Name          string `json:"name"` // file name in the bundle's segments/ folder
	FirstSeq      uint64 `json:"first_seq"`
	Count         uint64 `json:"count"`
	Digest        string `json:"digest"` // sha256 of the segment's bytes
	FirstLoggedAt string `json:"first_logged_at"`
	LastLoggedAt  string `json:"last_logged_at"`
}

// SegmentName is the file name of the segment holding entries first..first+count-1.
func SegmentName(first, count uint64) string {
	return fmt.Sprintf("%020d-%020d.jsonl", first, first+count-1)
}

// CheckpointName is the file name of the checkpoint at a tree size.
func CheckpointName(size uint64) string { return fmt.Sprintf("%020d.json", size) }

// signingDomain separates checkpoint signatures from any other use of the same key (the
// manifests are signed with it too): a signature over one kind cannot pass as the other.
const signingDomain = CheckpointSchema + "\n"

// SignedMessage is what the key signs: the schema line and the sha256 of the canonical JSON
// of the checkpoint without its signature. Signing a digest keeps the message within KMS's
// 4 KB limit however long the frontier grows.
func (c Checkpoint) SignedMessage() ([]byte, error) {
	c.Signature = ""
	d, err := canonjson.DigestOf(c)
	if err != nil {
		return nil, fmt.Errorf("checkpoint body: %w", err)
	}
	return []byte(signingDomain + d), nil
}

// Sign fills KeyID, Algorithm and Signature, and returns the checkpoint's file bytes.
func (c *Checkpoint) Sign(ctx context.Context, s signer.Signer) ([]byte, error) {
	c.KeyID, c.Algorithm, c.Signature = s.KeyID(), s.Algorithm(), ""
	msg, err := c.SignedMessage()
	if err != nil {
		return nil, err
	}
	sig, err := s.Sign(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint %d: %w", c.TreeSize, err)
	}
	c.Signature = base64.StdEncoding.EncodeToString(sig)
	return canonjson.Marshal(c)
}

// ParseCheckpoint reads a checkpoint file, refusing unknown fields and non-canonical bytes
// (a reformatted file would still verify but hash differently in the checkpoint chain).
func ParseCheckpoint(b []byte) (Checkpoint, error) {
	var c Checkpoint
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("not a checkpoint: %v", err)
	}
	if c.SchemaVersion != CheckpointSchema {
		return c, fmt.Errorf("schema_version %q, want %s", c.SchemaVersion, CheckpointSchema)
	}
	canon, err := canonjson.Canonicalize(b)
	if err != nil || !bytes.Equal(canon, b) {
		return c, errors.New("checkpoint file is not in canonical JSON form")
	}
	return c, nil
}

// VerifySignature checks the checkpoint's signature with a PKIX DER public key.
func (c Checkpoint) VerifySignature(publicKeyDER []byte) error {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) == 0 {
		return errors.New("signature is missing or not base64")
	}
	msg, err := c.SignedMessage()
	if err != nil {
		return err
	}
	if err := signer.Verify(c.Algorithm, publicKeyDER, msg, sig); err != nil {
		return fmt.Errorf("checkpoint (key_id %s) is not signed by the tenant's key %s: %w", c.KeyID, KeyFingerprint(publicKeyDER), err)
	}
	return nil
}

// FileHash is the sha256 of a checkpoint file, as the next checkpoint records it.
func FileHash(b []byte) Hash { return sha256.Sum256(b) }

// KeyFingerprint is "sha256:<hex>" of a PKIX DER public key: what an auditor compares with
// the key the tenant published.
func KeyFingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(s[:])
}

// EncodePublicKey writes a PKIX DER key as a PEM "PUBLIC KEY" block.
func EncodePublicKey(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// DecodePublicKey reads a PEM "PUBLIC KEY" block and checks it parses.
func DecodePublicKey(b []byte) ([]byte, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("no PEM PUBLIC KEY block")
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return block.Bytes, nil
}
