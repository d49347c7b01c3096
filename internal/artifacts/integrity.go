package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// The outgoing reads an integrity failure can stop (the evidence's "read" detail).
const (
	ReadDelivery  = "delivery"
	ReadRetrieval = "retrieval"
	ReadDownload  = "download"
)

// The objects an integrity failure can name (the evidence's "object" detail).
const (
	ObjectArtifact  = "artifact"
	ObjectManifest  = "manifest"
	ObjectSignature = "signature"
)

// IntegrityFailure tells whether a read of stored content failed because the bytes the
// product recorded are not what the store holds: they fail the recorded digest, or they are
// gone although the record says they are kept.
func IntegrityFailure(err error) bool {
	return errors.Is(err, objectstore.ErrIntegrity) || errors.Is(err, objectstore.ErrNotFound)
}

// IntegrityEvent is the evidence of content refused on its way out. It names the subjects,
// which object and the digest expected of it; never bytes, links or recipients.
func IntegrityEvent(tenantID, role, read, object, want string, subjects []string) evidence.Event {
	return evidence.Event{TenantID: tenantID, Action: evidence.IntegrityFailed, ActorRole: role, SubjectRefs: subjects,
		Details: map[string]any{"read": read, "object": object, "expected_digest": want}}
}

// LogIntegrityFailure tells the operator, at ERROR: the subject and what was expected.
func LogIntegrityFailure(ctx context.Context, tenantID, read, subjectRef, want string, cause error) {
	slog.ErrorContext(ctx, "stored content failed its integrity check and was not released",
		"tenant", tenantID, "read", read, "subject_ref", subjectRef, "expected_digest", want, "err", cause)
}

// VerifyStored reads the artifact's bytes through the integrity check before a link to them
// is handed out (a retrieval). On a failure it writes the evidence, logs it and refuses with
// 409 integrity_failure: not the caller's fault, and retrying will not help. subjects are the
// refs the evidence names (the artifact's and the retrieval's).
func (s *Service) VerifyStored(ctx context.Context, tenantID, role string, rec Record, subjects []string) error {
	err := s.check(ctx, rec)
	if err == nil || !IntegrityFailure(err) {
		return err
	}
	ref, werr := s.recordIntegrity(ctx, tenantID, role, ReadRetrieval, rec, subjects, err)
	if werr != nil {
		return werr
	}
	return problem.New(problem.Conflict, "integrity_failure", "artifact",
		"the stored artifact does not match its recorded digest; nothing was released (evidence "+ref+")")
}

func (s *Service) check(ctx context.Context, rec Record) error {
	rc, _, err := objectstore.VerifiedGet(ctx, s.objects, rec.ObjectKey, rec.VersionID, rec.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// recordIntegrity logs a refused read of rec and writes its evidence.
func (s *Service) recordIntegrity(ctx context.Context, tenantID, role, read string, rec Record, subjects []string, cause error) (string, error) {
	LogIntegrityFailure(ctx, tenantID, read, rec.ArtifactRef, rec.Digest, cause)
	ev, err := evidence.New(IntegrityEvent(tenantID, role, read, ObjectArtifact, rec.Digest, subjects), s.clock.Now())
	if err != nil {
		return "", err
	}
	w, err := ev.Write()
	if err != nil {
		return "", err
	}
	if err := s.items.Transact(ctx, []itemstore.Write{w}); err != nil {
		return "", fmt.Errorf("record integrity failure: %w", err)
	}
	return ev.Ref, nil
}

// RecordedDigest is the digest the artifact record holds for the WORM version key@versionID,
// or "" when no artifact record names that version (the embedded presigned downloads ask).
func (s *Service) RecordedDigest(ctx context.Context, key, versionID string) (string, error) {
	_, rec, ok, err := s.byObject(ctx, key, versionID)
	if err != nil || !ok {
		return "", err
	}
	return rec.Digest, nil
}

// IntegrityFailed writes the evidence of a presigned download refused because its bytes
// failed their check, and logs it: the link's holder only sees the 409.
func (s *Service) IntegrityFailed(ctx context.Context, key, versionID string, cause *objectstore.IntegrityError) {
	tenantID, rec, ok, err := s.byObject(ctx, key, versionID)
	if err != nil || !ok {
		// Not an artifact's version: no tenant record to hold evidence, the log must do.
		LogIntegrityFailure(ctx, "", ReadDownload, "worm:"+key+"#"+versionID, cause.Want, errors.Join(cause, err))
		return
	}
	if _, err := s.recordIntegrity(ctx, tenantID, "system", ReadDownload, rec, []string{rec.ArtifactRef}, cause); err != nil {
		slog.ErrorContext(ctx, "integrity failure evidence not written", "subject_ref", rec.ArtifactRef, "err", err)
	}
}

// byObject finds the artifact record stored at key@versionID; ok is false when none is.
func (s *Service) byObject(ctx context.Context, key, versionID string) (string, Record, bool, error) {
	tenantID, id, ok := parseObjectKey(key)
	if !ok {
		return "", Record{}, false, nil
	}
	rec, err := s.Get(ctx, tenantID, id)
	if errors.Is(err, ErrNotFound) {
		return "", Record{}, false, nil
	}
	if err != nil {
		return "", Record{}, false, err
	}
	if rec.ObjectKey != key || rec.VersionID != versionID {
		return "", Record{}, false, nil
	}
	return tenantID, rec, true, nil
}

// objectKey is where an artifact's bytes are stored; parseObjectKey reads it back.
func objectKey(tenantID string, now time.Time, id, ext string) string {
	return fmt.Sprintf("tenants/%s/artifacts/%s/%s.%s", tenantID, now.Format("2006-01-02"), id, ext)
}

func parseObjectKey(key string) (tenantID, id string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 5 || parts[0] != "tenants" || parts[2] != "artifacts" {
		return "", "", false
	}
	id, _, _ = strings.Cut(parts[4], ".")
	if _, valid := ParseID(id); !valid || parts[1] == "" {
		return "", "", false
	}
	return parts[1], id, true
}
