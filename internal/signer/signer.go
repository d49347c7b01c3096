// Package signer is the port for signing manifests and checkpoints (KMS in AWS, an Ed25519
// key file on the embedded default) and the offline verification that needs neither.
package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
)

// MaxMessage is the largest message Sign accepts (KMS's limit for raw messages).
// Sign a digest of anything larger.
const MaxMessage = 4096

// Algorithms.
const (
	Ed25519   = "Ed25519"
	ECDSAP256 = "ECDSA_SHA_256"
)

var (
	ErrInvalid      = errors.New("invalid signing request")
	ErrBadSignature = errors.New("signature does not verify")
)

// Signer signs with one key.
type Signer interface {
	KeyID() string
	Algorithm() string
	Sign(ctx context.Context, msg []byte) ([]byte, error)
	// PublicKey returns the PKIX DER public key, for offline verification.
	PublicKey(ctx context.Context) ([]byte, error)
}

// Verify checks sig over msg with a PKIX DER public key, offline.
func Verify(algorithm string, publicKeyDER, msg, sig []byte) error {
	pub, err := x509.ParsePKIXPublicKey(publicKeyDER)
	if err != nil {
		return fmt.Errorf("%w: public key: %v", ErrInvalid, err)
	}
	switch algorithm {
	case Ed25519:
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("%w: key is not Ed25519", ErrInvalid)
		}
		if !ed25519.Verify(k, msg, sig) {
			return ErrBadSignature
		}
	case ECDSAP256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: key is not ECDSA", ErrInvalid)
		}
		sum := sha256.Sum256(msg)
		if !ecdsa.VerifyASN1(k, sum[:], sig) {
			return ErrBadSignature
		}
	default:
		return fmt.Errorf("%w: unknown algorithm %q", ErrInvalid, algorithm)
	}
	return nil
}
