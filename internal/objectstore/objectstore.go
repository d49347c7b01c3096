// Package objectstore is the port for immutable artifacts: a versioned WORM object store
// with per-version retention (GOVERNANCE or COMPLIANCE mode and a retain-until date) and
// legal hold, in the manner of S3 Object Lock.
//
// The rules every adapter enforces (S3 Object Lock in AWS, a filesystem store on the
// embedded default), checked by the contract suite in package objectstoretest:
//   - Put never replaces bytes: a key that already exists is refused with ErrExists.
//   - Delete of a version under retention or legal hold is refused with ErrLocked.
//   - Retention can be extended, never shortened or removed while in force (ErrLocked).
//   - A presigned GET works until its expiry and not after.
//   - Get checks the bytes against the store's own checksum where the store keeps one
//     (ErrIntegrity); reads whose bytes leave the product also check the product's
//     recorded digest, through VerifiedGet.
package objectstore

import (
	"context"
	"errors"
	"io"
	"time"
)

var (
	ErrNotFound = errors.New("object not found")
	ErrExists   = errors.New("object already exists")
	ErrLocked   = errors.New("object is locked by retention or legal hold")
	ErrInvalid  = errors.New("invalid object store request")
)

// RetentionMode is the Object Lock mode of a version.
type RetentionMode string

const (
	Governance RetentionMode = "GOVERNANCE"
	Compliance RetentionMode = "COMPLIANCE"
)

// Retention locks a version until a date. A zero Until means no retention.
type Retention struct {
	Mode  RetentionMode
	Until time.Time
}

// PutInput describes a new object. Body is read to the end.
type PutInput struct {
	Key         string
	Body        io.Reader
	ContentType string
	Retention   Retention
	LegalHold   bool
	// Metadata is stored with the object (ASCII keys and values only).
	Metadata map[string]string
}

// Info describes one stored version.
type Info struct {
	Key         string
	VersionID   string
	Size        int64
	ContentType string
	// Digest is "sha256:<hex>" of the bytes, computed by the store on Put.
	Digest    string
	Retention Retention
	LegalHold bool
	Metadata  map[string]string
	Created   time.Time
	// DeleteMarker is true for a tombstone version (the key was deleted).
	DeleteMarker bool
}

// Store is the full port. Consumers declare the smaller interface they need.
// An empty versionID means the current version.
type Store interface {
	Put(ctx context.Context, in PutInput) (Info, error)
	// Get opens a version's bytes. Reading them may end with ErrIntegrity instead of io.EOF.
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, Info, error)
	Head(ctx context.Context, key, versionID string) (Info, error)
	// ListVersions lists every version (and tombstone) of keys under prefix, by key then newest first.
	ListVersions(ctx context.Context, prefix string) ([]Info, error)
	SetLegalHold(ctx context.Context, key, versionID string, on bool) error
	// SetRetention extends the retention of a version; shortening while in force is ErrLocked.
	SetRetention(ctx context.Context, key, versionID string, r Retention) error
	// DeleteVersion permanently removes one version; ErrLocked while retained or on hold.
	DeleteVersion(ctx context.Context, key, versionID string) error
	// PresignGet returns a URL that serves the version until ttl elapses. It is a secret:
	// never log it or put it in evidence.
	PresignGet(ctx context.Context, key, versionID string, ttl time.Duration) (string, error)
}
