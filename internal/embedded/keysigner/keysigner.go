// Package keysigner is the embedded signer.Signer: an Ed25519 key kept in a PKCS#8 PEM file.
package keysigner

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

const pemType = "PRIVATE KEY"

// Signer signs with one Ed25519 key.
type Signer struct {
	priv   ed25519.PrivateKey
	pubDER []byte
	keyID  string
}

var _ signer.Signer = (*Signer)(nil)

// LoadOrCreate reads the key at path, creating it (mode 0600) when it does not exist yet.
// Two processes racing to create it end up with the same key: the file is published with
// a hard link, which fails rather than replaces when the other process won.
func LoadOrCreate(path string) (*Signer, error) {
	s, err := load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	if err := create(path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return load(path)
}

// New wraps an existing key.
func New(priv ed25519.PrivateKey) (*Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: ed25519 private key has %d bytes", signer.ErrInvalid, len(priv))
	}
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("encode ed25519 public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &Signer{priv: priv, pubDER: der, keyID: "ed25519:" + hex.EncodeToString(sum[:])[:16]}, nil
}

func load(path string) (*Signer, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	// A signing key others can read is no longer the tenant's evidence key alone.
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %o; want 0600", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != pemType {
		return nil, fmt.Errorf("key file %s: no %q PEM block", path, pemType)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key file %s holds a %T, not an Ed25519 key", path, key)
	}
	return New(priv)
}

func create(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode ed25519 key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod states it rather than relying on that.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("create key file: %w", err)
	}
	werr := pem.Encode(tmp, &pem.Block{Type: pemType, Bytes: der})
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write key file: %w", werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("publish key file: %w", err)
	}
	return nil
}

func (s *Signer) KeyID() string     { return s.keyID }
func (s *Signer) Algorithm() string { return signer.Ed25519 }

func (s *Signer) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(msg) > signer.MaxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes exceeds %d", signer.ErrInvalid, len(msg), signer.MaxMessage)
	}
	return ed25519.Sign(s.priv, msg), nil
}

func (s *Signer) PublicKey(ctx context.Context) ([]byte, error) {
	return append([]byte(nil), s.pubDER...), nil
}
