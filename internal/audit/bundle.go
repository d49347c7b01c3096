package audit

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// BundleRequest selects what to export: the checkpoints whose segments hold entries logged
// in [From, To] (zero bounds are open), into Dir, which must not exist yet or be empty.
type BundleRequest struct {
	TenantID string
	From, To time.Time
	Dir      string
}

// packagesPrefix is where package manifests and their signatures live (package manifest
// writes tenants/<t>/packages/<id>/manifest.json and manifest.sig.json); the bundle carries
// those of the period as they are, for `aispm-reports verify manifest`.
func packagesPrefix(tenantID string) string { return "tenants/" + tenantID + "/packages/" }

func isManifest(key string) bool {
	return strings.HasSuffix(key, "/manifest.json") || strings.HasSuffix(key, "/manifest.sig.json")
}

// ExportBundle writes an offline bundle (layout in auditlog.Bundle and docs/audit.md).
func (w *Writer) ExportBundle(ctx context.Context, req BundleRequest) (auditlog.Bundle, error) {
	if err := w.requireSigner(); err != nil {
		return auditlog.Bundle{}, err
	}
	if err := prepareDir(req.Dir); err != nil {
		return auditlog.Bundle{}, err
	}
	st, _, err := w.sealed(ctx, req.TenantID)
	if err != nil {
		return auditlog.Bundle{}, err
	}
	cps, err := w.checkpoints(ctx, req.TenantID, st.Size)
	if err != nil {
		return auditlog.Bundle{}, err
	}
	pub, err := w.signer.PublicKey(ctx)
	if err != nil {
		return auditlog.Bundle{}, err
	}
	b := auditlog.Bundle{
		SchemaVersion: auditlog.BundleSchema, TenantRef: "tenant:" + req.TenantID,
		CreatedAt: w.clock.Now().UTC().Format(time.RFC3339Nano), From: rfc3339(req.From), To: rfc3339(req.To),
		KeyID: w.signer.KeyID(), Algorithm: w.signer.Algorithm(), PublicKeyFingerprint: auditlog.KeyFingerprint(pub),
		Checkpoints: []string{}, Manifests: []string{},
	}
	first, last := selectRange(cps, req.From, req.To)
	if first > 0 && first <= last {
		b.BaseCheckpoint = auditlog.CheckpointName(cps[first-1].cp.TreeSize)
		if err := writeFile(req.Dir, auditlog.CheckpointsDir, b.BaseCheckpoint, cps[first-1].raw); err != nil {
			return b, err
		}
	}
	for i := first; i <= last; i++ {
		if err := w.exportCheckpoint(ctx, req, cps[i], &b); err != nil {
			return b, err
		}
	}
	if err := w.exportManifests(ctx, req, &b); err != nil {
		return b, err
	}
	if err := writeFile(req.Dir, "", auditlog.PublicKeyFile, auditlog.EncodePublicKey(pub)); err != nil {
		return b, err
	}
	doc, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return b, err
	}
	return b, writeFile(req.Dir, "", auditlog.BundleFile, append(doc, '\n'))
}

type storedCheckpoint struct {
	raw []byte
	cp  auditlog.Checkpoint
}

// checkpoints reads the tenant's checkpoints up to the sealed size, in order.
func (w *Writer) checkpoints(ctx context.Context, tenantID string, sealed uint64) ([]storedCheckpoint, error) {
	infos, err := w.objects.ListVersions(ctx, objectPrefix(tenantID)+"checkpoints/")
	if err != nil {
		return nil, fmt.Errorf("list checkpoints of %s: %w", tenantID, err)
	}
	var out []storedCheckpoint
	seen := map[string]bool{}
	for _, info := range infos {
		if info.DeleteMarker || seen[info.Key] {
			continue
		}
		seen[info.Key] = true
		raw, err := w.readObject(ctx, info.Key)
		if err != nil {
			return nil, err
		}
		cp, err := auditlog.ParseCheckpoint(raw)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", info.Key, err)
		}
		if cp.TreeSize <= sealed { // a later one belongs to a seal not committed yet
			out = append(out, storedCheckpoint{raw: raw, cp: cp})
		}
	}
	return out, nil
}

// selectRange returns the first and last index of checkpoints whose segment overlaps
// [from, to]; first > last when none does.
func selectRange(cps []storedCheckpoint, from, to time.Time) (int, int) {
	first, last := len(cps), -1
	for i, c := range cps {
		lo, _ := time.Parse(time.RFC3339Nano, c.cp.Segment.FirstLoggedAt)
		hi, _ := time.Parse(time.RFC3339Nano, c.cp.Segment.LastLoggedAt)
		if (!from.IsZero() && hi.Before(from)) || (!to.IsZero() && lo.After(to)) {
			continue
		}
		first, last = min(first, i), i
	}
	return first, last
}

func (w *Writer) exportCheckpoint(ctx context.Context, req BundleRequest, c storedCheckpoint, b *auditlog.Bundle) error {
	name := auditlog.CheckpointName(c.cp.TreeSize)
	if err := writeFile(req.Dir, auditlog.CheckpointsDir, name, c.raw); err != nil {
		return err
	}
	b.Checkpoints = append(b.Checkpoints, name)
	key := objectPrefix(req.TenantID) + "segments/" + c.cp.Segment.Name
	digest, err := w.copyObject(ctx, key, filepath.Join(req.Dir, auditlog.SegmentsDir, c.cp.Segment.Name))
	if err != nil {
		return err
	}
	if digest != c.cp.Segment.Digest {
		return fmt.Errorf("segment %s in the WORM store has digest %s, its checkpoint says %s", key, digest, c.cp.Segment.Digest)
	}
	return nil
}

// exportManifests copies the tenant's signed package manifests of the period (by creation
// time).
func (w *Writer) exportManifests(ctx context.Context, req BundleRequest, b *auditlog.Bundle) error {
	prefix := packagesPrefix(req.TenantID)
	infos, err := w.objects.ListVersions(ctx, prefix)
	if err != nil {
		return fmt.Errorf("list manifests: %w", err)
	}
	seen := map[string]bool{}
	for _, info := range infos {
		if info.DeleteMarker || seen[info.Key] || !isManifest(info.Key) || outside(info.Created, req.From, req.To) {
			continue
		}
		seen[info.Key] = true
		rel := strings.TrimPrefix(info.Key, prefix)
		if _, err := w.copyObject(ctx, info.Key, filepath.Join(req.Dir, auditlog.ManifestsDir, filepath.FromSlash(rel))); err != nil {
			return err
		}
		b.Manifests = append(b.Manifests, rel)
	}
	return nil
}

func outside(t, from, to time.Time) bool {
	return (!from.IsZero() && t.Before(from)) || (!to.IsZero() && t.After(to))
}

// copyObject streams the current version of key into path and returns its digest.
func (w *Writer) copyObject(ctx context.Context, key, path string) (string, error) {
	rc, _, err := w.objects.Get(ctx, key, "")
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("bundle file: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", key, err)
	}
	return objectstore.Digest(h.Sum(nil)), nil
}

func prepareDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("bundle folder: %w", err)
	case len(ents) > 0:
		return fmt.Errorf("bundle folder %s is not empty", dir)
	}
	for _, sub := range []string{auditlog.CheckpointsDir, auditlog.SegmentsDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("bundle folder: %w", err)
		}
	}
	return nil
}

func writeFile(dir, sub, name string, b []byte) error {
	path := filepath.Join(dir, sub, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("bundle file: %w", err)
	}
	return nil
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
