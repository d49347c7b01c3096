package auditlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
)

// Schema versions of the log's documents.
const (
	EntrySchema      = "aispm.audit_entry.v1"
	CheckpointSchema = "aispm.audit_checkpoint.v1"
	ProofSchema      = "aispm.audit_inclusion_proof.v1"
	BundleSchema     = "aispm.audit_bundle.v1"
)

// Entry is one line of the log: one evidence record, its place in the tenant's sequence and
// the leaf hash of the entry before it. Its bytes are canonical JSON (internal/canonjson), so
// the keys are sorted and every entry starts with chain_prev_hash and chain_seq: the
// verifier reads those two at fixed offsets instead of parsing each line, which is what
// keeps verifying a million entries close to the cost of hashing them.
type Entry struct {
	PrevHash       string          `json:"chain_prev_hash"`
	Seq            uint64          `json:"chain_seq"`
	EvidenceDigest string          `json:"evidence_digest"`
	EvidenceRef    string          `json:"evidence_ref"`
	LoggedAt       string          `json:"logged_at"`
	Record         json.RawMessage `json:"record"`
	SchemaVersion  string          `json:"schema_version"`
	TenantRef      string          `json:"tenant_ref"`
}

// Encode returns the entry's canonical bytes (no trailing newline).
func (e Entry) Encode() ([]byte, error) {
	b, err := canonjson.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode audit entry %d: %w", e.Seq, err)
	}
	return b, nil
}

const (
	prevPrefix = `{"chain_prev_hash":"`
	seqPrefix  = `","chain_seq":`
	hashLen    = len("sha256:") + 64
)

var errMalformedHead = errors.New("entry does not start with chain_prev_hash and chain_seq")

// chainFields reads an entry's previous hash and sequence number from their fixed place.
func chainFields(line []byte) (prev []byte, seq uint64, err error) {
	if len(line) < len(prevPrefix)+hashLen+len(seqPrefix)+2 || !bytes.HasPrefix(line, []byte(prevPrefix)) {
		return nil, 0, errMalformedHead
	}
	prev = line[len(prevPrefix) : len(prevPrefix)+hashLen]
	rest := line[len(prevPrefix)+hashLen:]
	if !bytes.HasPrefix(rest, []byte(seqPrefix)) {
		return nil, 0, errMalformedHead
	}
	rest = rest[len(seqPrefix):]
	end := bytes.IndexByte(rest, ',')
	if end <= 0 || end > 20 || (rest[0] == '0' && end > 1) {
		return nil, 0, errMalformedHead
	}
	seq, err = strconv.ParseUint(string(rest[:end]), 10, 64)
	if err != nil {
		return nil, 0, errMalformedHead
	}
	return prev, seq, nil
}

// parseHashBytes is ParseHash for bytes already sliced out of a line.
func parseHashBytes(b []byte) (Hash, error) { return ParseHash(string(b)) }

// CheckEntry examines one entry in depth: canonical form, schema, tenant, and that the
// embedded evidence record still matches its own digest and the entry's copy of it. The
// verifier runs it where the chain breaks, to say which entry was changed and how.
func CheckEntry(line []byte, tenantRef string) error {
	canon, err := canonjson.Canonicalize(line)
	if err != nil {
		return errors.New("entry is not valid JSON")
	}
	if !bytes.Equal(canon, line) {
		return errors.New("entry is not in canonical JSON form (bytes were changed or reformatted)")
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fmt.Errorf("entry does not match %s: %v", EntrySchema, err)
	}
	switch {
	case e.SchemaVersion != EntrySchema:
		return fmt.Errorf("entry schema_version %q, want %s", e.SchemaVersion, EntrySchema)
	case tenantRef != "" && e.TenantRef != tenantRef:
		return fmt.Errorf("entry belongs to %s, not %s", e.TenantRef, tenantRef)
	}
	var rec evidence.Record
	if err := json.Unmarshal(e.Record, &rec); err != nil {
		return fmt.Errorf("evidence record is not readable: %v", err)
	}
	if err := rec.Verify(); err != nil {
		return fmt.Errorf("evidence record %s no longer matches its digest", rec.Ref)
	}
	switch {
	case rec.Ref != e.EvidenceRef:
		return fmt.Errorf("entry names evidence %s but holds %s", e.EvidenceRef, rec.Ref)
	case rec.Digest != e.EvidenceDigest:
		return fmt.Errorf("entry's evidence_digest differs from the record's digest")
	case rec.TenantRef != e.TenantRef:
		return fmt.Errorf("record of %s in the log of %s", rec.TenantRef, e.TenantRef)
	}
	return nil
}
