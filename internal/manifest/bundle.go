package manifest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// Bundle layout: a folder holding
//
//	manifest.json        the signed manifest, canonical JSON, exactly as stored
//	manifest.sig.json    the signature document (digest, key id, algorithm, signature, public key)
//	public-key.pem       the signing public key (PKIX), for auditors who pin it
//	artifacts/<id>.<ext> every artifact the manifest lists, at the path in its "file" field
const (
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig.json"
	PublicKeyFile = "public-key.pem"
)

// ExportBundle writes the package's bundle into dir (created; must not exist yet), reading
// every file back from the WORM store and checking it against the manifest on the way.
func (s *Service) ExportBundle(ctx context.Context, tenantID, pkg, dir string) (Record, error) {
	rec, err := s.Get(ctx, tenantID, pkg)
	if err != nil {
		return Record{}, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return Record{}, fmt.Errorf("bundle folder: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "artifacts"), 0o755); err != nil {
		return Record{}, err
	}
	if err := s.copyObject(ctx, rec.ManifestKey, rec.ManifestVer, rec.ManifestDigest, filepath.Join(dir, ManifestFile)); err != nil {
		return Record{}, err
	}
	if err := s.copyObject(ctx, rec.SignatureKey, rec.SignatureVer, "", filepath.Join(dir, SignatureFile)); err != nil {
		return Record{}, err
	}
	for _, a := range rec.Manifest.Artifacts {
		key, vid := splitContentRef(a.ContentRef)
		if err := s.copyObject(ctx, key, vid, a.Digest, filepath.Join(dir, filepath.FromSlash(a.File))); err != nil {
			return Record{}, err
		}
	}
	pub, err := s.signer.PublicKey(ctx)
	if err != nil {
		return Record{}, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	return rec, os.WriteFile(filepath.Join(dir, PublicKeyFile), pemBytes, 0o644)
}

// splitContentRef undoes artifacts.Record.ImmutableStoreRef ("worm:<key>#<version>").
func splitContentRef(r string) (key, version string) {
	r = r[len("worm:"):]
	for i := len(r) - 1; i >= 0; i-- {
		if r[i] == '#' {
			return r[:i], r[i+1:]
		}
	}
	return r, ""
}

// copyObject writes one stored object into the bundle, checked against wantDigest (""
// for the signature document, whose digest the product does not record: the store's own).
func (s *Service) copyObject(ctx context.Context, key, vid, wantDigest, dst string) error {
	raw, _, err := objectstore.ReadVerified(ctx, s.objects, key, vid, wantDigest)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return os.WriteFile(dst, raw, 0o644)
}

// Result is the outcome of an offline verification.
type Result struct {
	PackageRef     string
	ManifestDigest string
	KeyID          string
	Algorithm      string
	KeyPinned      bool
	Artifacts      int
}

// Verification failures.
var (
	ErrManifest  = errors.New("manifest does not verify")
	ErrArtifact  = errors.New("artifact does not match the manifest")
	ErrSignature = errors.New("signature does not verify")
)

// Verify checks a bundle offline: the manifest is canonical and its digest is the one
// signed, the signature verifies under the bundle's public key (or pinnedKey, a PKIX DER key
// the auditor trusts, when given), an Ed25519 key id is derived from that key, and every
// listed artifact file has the recorded size and digest.
func Verify(bundle fs.FS, pinnedKey []byte) (Result, error) {
	raw, err := fs.ReadFile(bundle, ManifestFile)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	canon, err := canonjson.Canonicalize(raw)
	if err != nil || !bytes.Equal(canon, raw) {
		return Result{}, fmt.Errorf("%w: manifest.json is not the canonical document that was signed", ErrManifest)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.SchemaVersion != SchemaVersion {
		return Result{}, fmt.Errorf("%w: not a %s document", ErrManifest, SchemaVersion)
	}
	digest := canonjson.Digest(raw)
	sig, pub, err := readSignature(bundle, m, digest, pinnedKey)
	if err != nil {
		return Result{}, err
	}
	if err := signer.Verify(sig.Algorithm, pub, Message(digest), mustB64(sig.Signature)); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	for _, a := range m.Artifacts {
		if err := checkArtifact(bundle, a); err != nil {
			return Result{}, err
		}
	}
	return Result{PackageRef: m.PackageRef, ManifestDigest: digest, KeyID: sig.KeyID, Algorithm: sig.Algorithm,
		KeyPinned: pinnedKey != nil, Artifacts: len(m.Artifacts)}, nil
}

func readSignature(bundle fs.FS, m Manifest, digest string, pinnedKey []byte) (Signature, []byte, error) {
	raw, err := fs.ReadFile(bundle, SignatureFile)
	if err != nil {
		return Signature{}, nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	var sig Signature
	if err := json.Unmarshal(raw, &sig); err != nil || sig.SchemaVersion != SigSchemaVersion {
		return Signature{}, nil, fmt.Errorf("%w: not a %s document", ErrSignature, SigSchemaVersion)
	}
	switch {
	case sig.ManifestDigest != digest:
		return sig, nil, fmt.Errorf("%w: manifest digest %s, signature covers %s", ErrManifest, digest, sig.ManifestDigest)
	case sig.PackageRef != m.PackageRef || sig.KeyID != m.Signing.KeyID || sig.Algorithm != m.Signing.Algorithm:
		return sig, nil, fmt.Errorf("%w: signature names another package or key", ErrSignature)
	}
	pub := mustB64(sig.PublicKey)
	if pinnedKey != nil && !bytes.Equal(pinnedKey, pub) {
		return sig, nil, fmt.Errorf("%w: signed with a key other than the pinned one", ErrSignature)
	}
	if sig.Algorithm == signer.Ed25519 {
		if k, err := x509.ParsePKIXPublicKey(pub); err != nil || !isEd25519(k) || ed25519KeyID(pub) != sig.KeyID {
			return sig, nil, fmt.Errorf("%w: key id does not belong to the public key", ErrSignature)
		}
	}
	return sig, pub, nil
}

func isEd25519(k any) bool { _, ok := k.(ed25519.PublicKey); return ok }

// ed25519KeyID is how the embedded signer names its key (keysigner.New).
func ed25519KeyID(der []byte) string {
	sum := sha256.Sum256(der)
	return "ed25519:" + hex.EncodeToString(sum[:])[:16]
}

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

func checkArtifact(bundle fs.FS, a Artifact) error {
	name := path.Clean(a.File)
	if !fs.ValidPath(name) || path.Dir(name) != "artifacts" {
		return fmt.Errorf("%w: %s has an unsafe file path", ErrManifest, a.ArtifactRef)
	}
	raw, err := fs.ReadFile(bundle, name)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrArtifact, a.ArtifactRef, err)
	}
	if int64(len(raw)) != a.Size || objectstore.DigestOf(raw) != a.Digest {
		return fmt.Errorf("%w: %s (%s)", ErrArtifact, a.ArtifactRef, name)
	}
	return nil
}

// ReadPublicKeyPEM reads a PEM "PUBLIC KEY" file to pin.
func ReadPublicKeyPEM(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: no PUBLIC KEY PEM block", path)
	}
	return block.Bytes, nil
}
