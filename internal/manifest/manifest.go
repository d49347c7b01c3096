// Package manifest groups artifacts into export packages. A package's manifest lists each
// artifact's ref, format, content ref, digest and size, the delivery targets, the retention
// class and the source evidence refs; its canonical JSON is signed through the signer port
// (KMS in AWS, Ed25519 embedded), and manifest and signature are stored in the WORM store.
// A bundle (manifest, signature, public key, artifact files) verifies offline.
package manifest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Versions of the signed documents.
const (
	SchemaVersion    = "aispm.package_manifest.v1"
	SigSchemaVersion = "aispm.package_signature.v1"
	// signingContext prefixes the signed message, so a signature over a manifest digest can
	// never be replayed as a signature over anything else the key signs.
	signingContext = "aispm.package_manifest.v1:"
)

// PackageTypes are the public contract's package types.
var PackageTypes = []string{"board_and_audit_bundle", "grc_upload_package", "siem_export_bundle", "evidence_room_bundle", "incident_review_packet"}

// Manifest is the signed document (manifest.json in a bundle).
type Manifest struct {
	SchemaVersion      string     `json:"schema_version"`
	PackageRef         string     `json:"package_ref"`
	TenantRef          string     `json:"tenant_ref"`
	PackageType        string     `json:"package_type"`
	RequestedBy        string     `json:"requested_by"`
	CreatedAt          string     `json:"created_at"`
	RetentionClass     string     `json:"retention_class"`
	RetainUntil        string     `json:"retain_until"`
	Artifacts          []Artifact `json:"artifacts"`
	DeliveryTargets    []Target   `json:"delivery_targets"`
	SourceEvidenceRefs []string   `json:"source_evidence_refs"`
	Signing            Signing    `json:"signing"`
}

// Artifact is one file of the package.
type Artifact struct {
	ArtifactRef     string `json:"artifact_ref"`
	ReportID        string `json:"report_id"`
	Format          string `json:"format"`
	ContentRef      string `json:"content_ref"`
	Digest          string `json:"digest"`
	Size            int64  `json:"size_bytes"`
	File            string `json:"file"`
	RetentionClass  string `json:"retention_class"`
	SnapshotRef     string `json:"data_snapshot_ref"`
	TemplateVersion string `json:"template_version"`
}

// Target is a delivery target. Only download (retrieval through a short-lived presigned
// link) exists in this build, so it is the only target a manifest names.
type Target struct {
	TargetRef        string `json:"target_ref"`
	TargetType       string `json:"target_type"`
	RecipientScope   string `json:"recipient_scope"`
	DeliveryMode     string `json:"delivery_mode"`
	ApprovalRequired bool   `json:"approval_required"`
}

// Signing names the key that signs the manifest.
type Signing struct {
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm"`
}

// Signature is manifest.sig.json.
type Signature struct {
	SchemaVersion  string `json:"schema_version"`
	PackageRef     string `json:"package_ref"`
	ManifestDigest string `json:"manifest_digest"`
	KeyID          string `json:"key_id"`
	Algorithm      string `json:"algorithm"`
	Signature      string `json:"signature"`  // base64
	PublicKey      string `json:"public_key"` // base64 PKIX DER
}

// Message is the byte string the signature covers.
func Message(manifestDigest string) []byte { return []byte(signingContext + manifestDigest) }

// Record is the package's index entry.
type Record struct {
	Manifest       Manifest `json:"manifest"`
	ManifestDigest string   `json:"manifest_digest"`
	ManifestKey    string   `json:"manifest_key"`
	ManifestVer    string   `json:"manifest_version_id"`
	SignatureKey   string   `json:"signature_key"`
	SignatureVer   string   `json:"signature_version_id"`
	EvidenceRef    string   `json:"evidence_ref"`
}

// Items is the part of the item store packages need.
type Items interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Objects is the part of the WORM store packages need.
type Objects interface {
	Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error)
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, objectstore.Info, error)
}

// ArtifactReader reads artifact records (artifacts.Service).
type ArtifactReader interface {
	Get(ctx context.Context, tenantID, artifact string) (artifacts.Record, error)
}

// Service creates and reads packages.
type Service struct {
	items     Items
	objects   Objects
	artifacts ArtifactReader
	signer    signer.Signer
	settings  artifacts.SettingsFunc
	clock     clock.Clock
}

func NewService(items Items, objects Objects, arts ArtifactReader, sg signer.Signer, st artifacts.SettingsFunc, clk clock.Clock) *Service {
	return &Service{items: items, objects: objects, artifacts: arts, signer: sg, settings: st, clock: clk}
}

// PartitionKey holds a tenant's packages in creation order.
func PartitionKey(tenantID string) string { return "T#" + tenantID + "#PKG" }

// Request is the body of POST /enterprise/aispm/reports/packages.
type Request struct {
	PackageType    string   `json:"package_type"`
	ArtifactRefs   []string `json:"artifact_refs"`
	RetentionClass string   `json:"retention_class,omitempty"`
}

// ParseRequest validates a package body.
func ParseRequest(body []byte) (Request, error) {
	var r Request
	if err := schemas.DecodeValid(schemas.PackageRequest, body, &r); err != nil {
		return Request{}, err
	}
	return r, nil
}

// Create signs and stores a package of the tenant's artifacts.
func (s *Service) Create(ctx context.Context, tenantID, role string, req Request) (Record, error) {
	if s.signer == nil {
		return Record{}, errors.New("package signing is not configured (no signing key)")
	}
	recs, err := s.load(ctx, tenantID, req.ArtifactRefs)
	if err != nil {
		return Record{}, err
	}
	now := s.clock.Now()
	m, err := s.build(ctx, tenantID, role, req, recs, now)
	if err != nil {
		return Record{}, err
	}
	return s.signAndStore(ctx, tenantID, role, m, now)
}

// load reads each artifact; one that is missing, another tenant's, expired or deleted
// refuses the package (its bytes could not be delivered).
func (s *Service) load(ctx context.Context, tenantID string, refs []string) ([]artifacts.Record, error) {
	now := s.clock.Now()
	out := make([]artifacts.Record, 0, len(refs))
	for i, r := range refs {
		rec, err := s.artifacts.Get(ctx, tenantID, r)
		if p, ok := problem.As(err); ok && p.Kind == problem.NotFound {
			return nil, problem.New(problem.Invalid, "unknown_artifact", fmt.Sprintf("artifact_refs[%d]", i), "no such artifact")
		}
		if err != nil {
			return nil, err
		}
		if st := rec.Effective(now); st == artifacts.Expired || st == artifacts.Deleted {
			return nil, problem.New(problem.Conflict, "artifact_not_packageable", fmt.Sprintf("artifact_refs[%d]", i), "the artifact is "+st)
		}
		out = append(out, rec)
	}
	return out, nil
}

func (s *Service) build(ctx context.Context, tenantID, role string, req Request, recs []artifacts.Record, now time.Time) (Manifest, error) {
	class := req.RetentionClass
	if class == "" {
		class = artifacts.AuditRecord
	}
	st, err := s.settings(ctx, tenantID)
	if err != nil {
		return Manifest{}, err
	}
	until := now.AddDate(0, 0, artifacts.Days(st, class))
	id := ref.NewID("pkg", now)
	m := Manifest{
		SchemaVersion: SchemaVersion, PackageRef: ref.Make("package", id), TenantRef: ref.Make("tenant", tenantID),
		PackageType: req.PackageType, RequestedBy: ref.Make("role", role), CreatedAt: now.UTC().Format(time.RFC3339),
		RetentionClass: class, Signing: Signing{KeyID: s.signer.KeyID(), Algorithm: s.signer.Algorithm()},
	}
	approval := false
	for _, r := range recs {
		if r.Until().After(until) {
			until = r.Until()
		}
		approval = approval || r.ApprovalRequired
		m.Artifacts = append(m.Artifacts, Artifact{
			ArtifactRef: r.ArtifactRef, ReportID: r.ReportID, Format: r.Format, ContentRef: r.ImmutableStoreRef(),
			Digest: r.Digest, Size: r.Size, File: "artifacts/" + r.ID() + "." + ext(r.ObjectKey),
			RetentionClass: r.RetentionClass, SnapshotRef: r.SnapshotRef, TemplateVersion: r.TemplateVersion,
		})
		if !slices.Contains(m.SourceEvidenceRefs, r.EvidenceRef) {
			m.SourceEvidenceRefs = append(m.SourceEvidenceRefs, r.EvidenceRef)
		}
	}
	m.RetainUntil = until.UTC().Format(time.RFC3339)
	m.DeliveryTargets = []Target{{TargetRef: "target:download", TargetType: "download", RecipientScope: "approved_internal_domain",
		DeliveryMode: "download", ApprovalRequired: approval}}
	return m, nil
}

func ext(key string) string {
	for i := len(key) - 1; i >= 0 && key[i] != '/'; i-- {
		if key[i] == '.' {
			return key[i+1:]
		}
	}
	return "bin"
}

func (s *Service) signAndStore(ctx context.Context, tenantID, role string, m Manifest, now time.Time) (Record, error) {
	raw, err := canonjson.Marshal(m)
	if err != nil {
		return Record{}, err
	}
	digest := canonjson.Digest(raw)
	sig, err := s.signer.Sign(ctx, Message(digest))
	if err != nil {
		return Record{}, fmt.Errorf("sign manifest: %w", err)
	}
	pub, err := s.signer.PublicKey(ctx)
	if err != nil {
		return Record{}, fmt.Errorf("signing public key: %w", err)
	}
	sigDoc, err := canonjson.Marshal(Signature{SchemaVersion: SigSchemaVersion, PackageRef: m.PackageRef, ManifestDigest: digest,
		KeyID: m.Signing.KeyID, Algorithm: m.Signing.Algorithm,
		Signature: base64.StdEncoding.EncodeToString(sig), PublicKey: base64.StdEncoding.EncodeToString(pub)})
	if err != nil {
		return Record{}, err
	}
	until, _ := time.Parse(time.RFC3339, m.RetainUntil)
	prefix := fmt.Sprintf("tenants/%s/packages/%s/", tenantID, m.PackageRef[len("package:"):])
	rec := Record{Manifest: m, ManifestDigest: digest, ManifestKey: prefix + "manifest.json", SignatureKey: prefix + "manifest.sig.json"}
	if rec.ManifestVer, err = s.put(ctx, rec.ManifestKey, raw, until, tenantID); err != nil {
		return Record{}, err
	}
	if rec.SignatureVer, err = s.put(ctx, rec.SignatureKey, sigDoc, until, tenantID); err != nil {
		return Record{}, err
	}
	return s.index(ctx, tenantID, role, rec, now)
}

func (s *Service) put(ctx context.Context, key string, body []byte, until time.Time, tenantID string) (string, error) {
	info, err := s.objects.Put(ctx, objectstore.PutInput{Key: key, Body: bytes.NewReader(body), ContentType: "application/json",
		Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: until},
		Metadata:  map[string]string{"tenant": tenantID, "record-class": "audit_record"}})
	if err != nil {
		return "", fmt.Errorf("store %s: %w", key, err)
	}
	return info.VersionID, nil
}

func (s *Service) index(ctx context.Context, tenantID, role string, rec Record, now time.Time) (Record, error) {
	refs := []string{rec.Manifest.PackageRef}
	for _, a := range rec.Manifest.Artifacts {
		refs = append(refs, a.ArtifactRef)
	}
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: evidence.PackageSigned, ActorRole: role, SubjectRefs: refs,
		Details: map[string]any{"manifest_digest": rec.ManifestDigest, "key_id": rec.Manifest.Signing.KeyID,
			"algorithm": rec.Manifest.Signing.Algorithm, "package_type": rec.Manifest.PackageType, "artifacts": len(rec.Manifest.Artifacts)}}, now)
	if err != nil {
		return Record{}, err
	}
	rec.EvidenceRef = ev.Ref
	data, err := json.Marshal(rec)
	if err != nil {
		return Record{}, err
	}
	evw, err := ev.Write()
	if err != nil {
		return Record{}, err
	}
	id := rec.Manifest.PackageRef[len("package:"):]
	err = s.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: PartitionKey(tenantID), SK: id, Data: data}}, evw})
	if err != nil {
		return Record{}, fmt.Errorf("index package: %w", err)
	}
	return rec, nil
}

var idPattern = regexp.MustCompile(`^pkg_[0-9a-z]{26}$`)

// ErrNotFound is the refusal for a package this tenant does not have.
var ErrNotFound = problem.New(problem.NotFound, "package_not_found", "package", "no such package")

// Get reads a package record; "" means the tenant's latest package.
func (s *Service) Get(ctx context.Context, tenantID, pkg string) (Record, error) {
	var it itemstore.Item
	var err error
	if pkg == "" {
		var page itemstore.Page
		page, err = s.items.Query(ctx, itemstore.Query{PK: PartitionKey(tenantID), Desc: true, Limit: 1})
		if err == nil && len(page.Items) == 0 {
			return Record{}, ErrNotFound
		}
		if err == nil {
			it = page.Items[0]
		}
	} else {
		id := strings.TrimPrefix(pkg, "package:")
		if !idPattern.MatchString(id) {
			return Record{}, ErrNotFound
		}
		it, err = s.items.Get(ctx, PartitionKey(tenantID), id)
	}
	if errors.Is(err, itemstore.ErrNotFound) || errors.Is(err, itemstore.ErrInvalid) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("read package: %w", err)
	}
	var rec Record
	if err := json.Unmarshal(it.Data, &rec); err != nil {
		return Record{}, fmt.Errorf("decode package: %w", err)
	}
	return rec, nil
}
