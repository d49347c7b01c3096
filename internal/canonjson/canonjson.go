// Package canonjson produces the canonical JSON bytes that every digest and signature in the
// product is computed over: object keys sorted, no insignificant whitespace, no HTML
// escaping, numbers kept exactly as written. Two values that mean the same document give the
// same bytes, so a digest taken here can be recomputed offline by an auditor.
package canonjson

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Marshal returns the canonical bytes of v (any value encoding/json accepts).
func Marshal(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return Canonicalize(raw)
}

// Canonicalize rewrites a JSON document into canonical form.
func Canonicalize(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// encoding/json writes map keys in sorted order, which is what makes this canonical.
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Digest returns "sha256:<hex>" of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DigestOf returns the digest of the canonical bytes of v.
func DigestOf(v any) (string, error) {
	b, err := Marshal(v)
	if err != nil {
		return "", err
	}
	return Digest(b), nil
}
