// Package sealed signs a canonical JSON document's digest and verifies it offline: the seal
// of the signed evidence packet and of the GRC upload package's manifest. The seal carries
// the public key, so anyone can check integrity; pinning a known key also proves origin.
package sealed

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// SchemaVersion names the seal document's layout.
const SchemaVersion = "aispm.seal.v1"

// Signer signs with one key (signer.Signer satisfies it).
type Signer interface {
	KeyID() string
	Algorithm() string
	Sign(ctx context.Context, msg []byte) ([]byte, error)
	PublicKey(ctx context.Context) ([]byte, error)
}

// Seal is the signature over one document: Purpose tells what was signed, so a seal of one
// kind of document cannot be passed off as the seal of another.
type Seal struct {
	SchemaVersion string `json:"schema_version"`
	Purpose       string `json:"purpose"`
	Digest        string `json:"digest"` // sha256 of the document's canonical JSON
	KeyID         string `json:"key_id"`
	Algorithm     string `json:"algorithm"`
	Signature     string `json:"signature"`  // base64
	PublicKey     string `json:"public_key"` // base64 PKIX DER
}

// ErrMismatch means the document is not the one the seal was made over.
var ErrMismatch = errors.New("document digest does not match its seal")

// message is what the key signs: the purpose and the digest, never the document itself
// (KMS signs at most 4 KiB).
func message(purpose, digest string) []byte {
	return []byte(SchemaVersion + "\n" + purpose + "\n" + digest)
}

// Make seals canonical, the canonical JSON bytes of the document.
func Make(ctx context.Context, s Signer, purpose string, canonical []byte) (Seal, error) {
	digest := canonjson.Digest(canonical)
	sig, err := s.Sign(ctx, message(purpose, digest))
	if err != nil {
		return Seal{}, fmt.Errorf("seal %s: %w", purpose, err)
	}
	pub, err := s.PublicKey(ctx)
	if err != nil {
		return Seal{}, fmt.Errorf("seal %s: public key: %w", purpose, err)
	}
	return Seal{SchemaVersion: SchemaVersion, Purpose: purpose, Digest: digest, KeyID: s.KeyID(), Algorithm: s.Algorithm(),
		Signature: base64.StdEncoding.EncodeToString(sig), PublicKey: base64.StdEncoding.EncodeToString(pub)}, nil
}

// Verify checks that canonical is the sealed document and that the signature verifies
// under pinned (a PKIX DER key), or under the seal's own key when pinned is nil. It reports
// whether a pinned key was used.
func (s Seal) Verify(purpose string, canonical, pinned []byte) (bool, error) {
	if s.SchemaVersion != SchemaVersion || s.Purpose != purpose {
		return false, fmt.Errorf("seal is not a %s seal of %s", SchemaVersion, purpose)
	}
	if canonjson.Digest(canonical) != s.Digest {
		return false, ErrMismatch
	}
	own, err := base64.StdEncoding.DecodeString(s.PublicKey)
	if err != nil {
		return false, fmt.Errorf("seal public key: %w", err)
	}
	key := own
	if pinned != nil {
		if string(pinned) != string(own) {
			return true, errors.New("sealed by another key than the pinned one")
		}
		key = pinned
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil {
		return false, fmt.Errorf("seal signature: %w", err)
	}
	return pinned != nil, signer.Verify(s.Algorithm, key, message(purpose, s.Digest), sig)
}
