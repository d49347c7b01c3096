package objectstore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// The checks below are the port's rules in one place, so every adapter refuses the same
// requests with the same errors (S3 itself enforces some of them, emulators fewer).

// DefaultContentType is stored when a Put names none, as S3 does (it says binary/octet-stream).
const DefaultContentType = "application/octet-stream"

// MaxPresignTTL is the longest presigned GET, matching S3's SigV4 limit of seven days.
const MaxPresignTTL = 7 * 24 * time.Hour

// Digest returns the port's digest form, "sha256:<hex>", of a finished SHA-256 sum.
func Digest(sum []byte) string { return "sha256:" + hex.EncodeToString(sum) }

// DigestOf returns the port's digest of b.
func DigestOf(b []byte) string {
	s := sha256.Sum256(b)
	return Digest(s[:])
}

// InForce reports whether r still locks a version at now.
func (r Retention) InForce(now time.Time) bool {
	return !r.Until.IsZero() && r.Until.After(now)
}

// ValidatePut checks a PutInput before any bytes are stored. now is the store's clock.
func ValidatePut(in PutInput, now time.Time) error {
	if err := ValidateKey(in.Key); err != nil {
		return err
	}
	if in.Body == nil {
		return fmt.Errorf("put %q: nil body: %w", in.Key, ErrInvalid)
	}
	if !in.Retention.Until.IsZero() || in.Retention.Mode != "" {
		if err := validateNewRetention(in.Retention, now); err != nil {
			return fmt.Errorf("put %q: %w", in.Key, err)
		}
	}
	return ValidateMetadata(in.Metadata)
}

// ValidateKey refuses keys S3 would refuse or that cannot round-trip through a URL path.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("empty key: %w", ErrInvalid)
	case len(key) > 1024:
		return fmt.Errorf("key longer than 1024 bytes: %w", ErrInvalid)
	case strings.ContainsAny(key, "\x00\r\n"):
		return fmt.Errorf("key %q has control characters: %w", key, ErrInvalid)
	}
	// Presigned URLs carry the key in their path, and HTTP routers clean away "." and ".."
	// segments and empty ones, so such a key could not be served.
	if strings.HasPrefix(key, "/") || strings.Contains(key, "//") {
		return fmt.Errorf("key %q has an empty path segment: %w", key, ErrInvalid)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("key %q has a dot segment: %w", key, ErrInvalid)
		}
	}
	return nil
}

// ValidateMetadata allows what survives as an S3 x-amz-meta-* header through any HTTP
// stack: lower-case keys of a-z, 0-9 and "-" (S3 returns keys lower-cased; some servers
// drop or rewrite "_" in header names) and printable ASCII values without outer spaces.
func ValidateMetadata(m map[string]string) error {
	for k, v := range m {
		if k == "" || strings.ToLower(k) != k {
			return fmt.Errorf("metadata key %q must be non-empty lower case: %w", k, ErrInvalid)
		}
		for _, c := range k {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("metadata key %q: only a-z 0-9 -: %w", k, ErrInvalid)
			}
		}
		for _, c := range v {
			if c < 0x20 || c > 0x7e {
				return fmt.Errorf("metadata %q: value must be printable ASCII: %w", k, ErrInvalid)
			}
		}
		if strings.TrimSpace(v) != v {
			return fmt.Errorf("metadata %q: value has outer spaces: %w", k, ErrInvalid)
		}
	}
	return nil
}

// CheckRetentionChange decides whether a version's retention may go from cur to next at now:
// extending (or upgrading GOVERNANCE to COMPLIANCE) is allowed; shortening, removing or
// downgrading a retention in force is ErrLocked. Removing one no longer in force is a
// no-op for callers to skip, reported by noop.
func CheckRetentionChange(cur, next Retention, now time.Time) (noop bool, err error) {
	inForce := cur.InForce(now)
	if next.Until.IsZero() && next.Mode == "" {
		if inForce {
			return false, fmt.Errorf("remove retention in force until %s: %w", cur.Until.Format(time.RFC3339), ErrLocked)
		}
		return true, nil
	}
	if err := validateNewRetention(next, now); err != nil {
		return false, err
	}
	if !inForce {
		return false, nil
	}
	if next.Until.Before(cur.Until) {
		return false, fmt.Errorf("shorten retention from %s to %s: %w",
			cur.Until.Format(time.RFC3339Nano), next.Until.Format(time.RFC3339Nano), ErrLocked)
	}
	if cur.Mode == Compliance && next.Mode != Compliance {
		return false, fmt.Errorf("downgrade COMPLIANCE retention to %s: %w", next.Mode, ErrLocked)
	}
	return false, nil
}

// CheckPresignTTL bounds a presigned URL's lifetime.
func CheckPresignTTL(ttl time.Duration) error {
	if ttl <= 0 || ttl > MaxPresignTTL {
		return fmt.Errorf("presign ttl %s outside (0, %s]: %w", ttl, MaxPresignTTL, ErrInvalid)
	}
	return nil
}

func validateNewRetention(r Retention, now time.Time) error {
	if r.Mode != Governance && r.Mode != Compliance {
		return fmt.Errorf("retention mode %q: %w", r.Mode, ErrInvalid)
	}
	// S3 refuses a retain-until date that is not in the future.
	if !r.Until.After(now) {
		return fmt.Errorf("retain-until %s is not in the future: %w", r.Until.Format(time.RFC3339), ErrInvalid)
	}
	return nil
}
