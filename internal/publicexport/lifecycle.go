package publicexport

import (
	"errors"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// packageManifest exports a signed package's manifest. Refs and digests are those of the
// stored manifest and signature; the package does not record which audit checkpoint covers
// its evidence, so chain_ref is the documented placeholder. Without any package the export
// is not ready; a named package the tenant does not have stays package_not_found.
func packageManifest(s State) (any, []Condition, error) {
	rec, err := s.Package()
	if errors.Is(err, manifest.ErrNotFound) && s.PackageRef == "" {
		return nil, []Condition{{"no_package", "the tenant has signed no package yet"}}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	m := rec.Manifest
	arts := make([]map[string]any, 0, len(m.Artifacts))
	for _, a := range m.Artifacts {
		arts = append(arts, map[string]any{"artifact_ref": a.ArtifactRef, "report_id": a.ReportID, "format": a.Format,
			"content_ref": a.ContentRef, "digest_ref": a.Digest, "size_bytes": a.Size})
	}
	targets := make([]map[string]any, 0, len(m.DeliveryTargets))
	for _, t := range m.DeliveryTargets {
		targets = append(targets, map[string]any{"target_ref": t.TargetRef, "target_type": t.TargetType,
			"recipient_scope": t.RecipientScope, "delivery_mode": t.DeliveryMode, "approval_required": t.ApprovalRequired})
	}
	src := make([]string, len(m.SourceEvidenceRefs))
	for i, r := range m.SourceEvidenceRefs {
		src[i] = evidence.PublicRef(r)
	}
	red := redaction()
	red["download_urls_included"] = false
	return map[string]any{
		"schema_version": "cavra.aispm.report_export_package_manifest.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract, "generated_at": s.Now.UTC().Format(time.RFC3339), "tenant_ref": m.TenantRef,
		"package": map[string]any{"package_ref": m.PackageRef, "package_type": m.PackageType, "requested_by": m.RequestedBy,
			"created_at": m.CreatedAt, "retention_class": m.RetentionClass, "watermark_required": false, "signed_manifest_required": true},
		"artifacts": arts, "delivery_targets": targets,
		"integrity": map[string]any{"manifest_digest_ref": rec.ManifestDigest, "signature_ref": "worm:" + rec.SignatureKey + "#" + rec.SignatureVer,
			"chain_ref": ref.None("chain"), "checksums_required": true},
		"evidence": map[string]any{"source_evidence_refs": src, "export_audit_ref": evidence.PublicRef(rec.EvidenceRef),
			"immutable_store_ref": "worm:" + rec.ManifestKey + "#" + rec.ManifestVer},
		"redaction":             red,
		"enterprise_boundaries": boundaries("package_renderer", "artifact_storage", "manifest_signing", "grc_connector", "siem_exporter"),
	}, nil, nil
}

// lifecycleLimit bounds the artifacts listed in a retention-lifecycle packet.
const lifecycleLimit = 100

// retentionLifecycle exports the tenant's retention policy and the lifecycle of its most
// recent artifacts. The audit export it describes is the tenant's audit log as sealed into
// the WORM store (segments under COMPLIANCE retention, chained signed checkpoints): before
// the first checkpoint there is none, and the packet says so with placeholders.
func retentionLifecycle(s State) (any, []Condition, error) {
	recs, err := s.Artifacts()
	if err != nil {
		return nil, nil, err
	}
	cp, err := s.Checkpoint()
	if err != nil {
		return nil, nil, err
	}
	var unmet []Condition
	if len(recs) == 0 {
		unmet = append(unmet, Condition{"no_artifact", "the tenant has no rendered artifact yet"})
	}
	if cp != nil && s.SigningKeyID == "" {
		unmet = append(unmet, Condition{"signing_key_not_configured", "no signing key is configured to name as the key of the sealed audit log"})
	}
	if len(unmet) > 0 {
		return nil, unmet, nil
	}
	start, err := s.AuditStart()
	if err != nil {
		return nil, nil, err
	}
	items, evs := lifecycleItems(recs[:min(len(recs), lifecycleLimit)], s.Now)
	created, _ := time.Parse(time.RFC3339Nano, start)
	st := s.Settings.RetentionDays
	return map[string]any{
		"schema_version": "cavra.aispm.report_retention_lifecycle.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract, "generated_at": s.Now.UTC().Format(time.RFC3339), "tenant_ref": ref.Make("tenant", s.Tenant.ID),
		"policy": map[string]any{"policy_id": "retention_policy:" + s.Tenant.ID, "default_retention_days": st.GovernanceRecord,
			"audit_event_retention_days": st.AuditRecord, "immutable_storage_required": true, "legal_hold_supported": true,
			"deletion_requires_approval": false},
		"report_lifecycle":       items,
		"audit_export_lifecycle": auditArchive(cp, s.SigningKeyID, created, st.AuditRecord),
		"deletion_policy": map[string]any{"allowed_states": artifacts.DeletableStates, "blocked_states": artifacts.BlockedStates(),
			"approval_required": false, "tombstone_required": true},
		"evidence":              map[string]any{"retention_evidence_refs": evs, "archive_manifest_ref": ref.None("manifest"), "chain_ref": chainRef(cp)},
		"redaction":             redaction(),
		"enterprise_boundaries": boundaries("retention_worker", "legal_hold_store", "immutable_archive", "kms_integration", "deletion_approval_workflow"),
	}, nil, nil
}

// auditArchive describes the sealed audit log: its latest checkpoint in the WORM store,
// locked, signed with the deployment's signing key. Before the first checkpoint nothing is
// sealed, so there is no lock and no key to report: object_lock takes the schema's value
// for what this packet cannot show, and the refs are placeholders.
func auditArchive(cp *audit.Checkpointed, keyID string, created time.Time, retentionDays int) map[string]any {
	m := map[string]any{"export_ref": ref.None("audit_export"), "created_at": created.UTC().Format(time.RFC3339),
		"expires_at": created.AddDate(0, 0, retentionDays).UTC().Format(time.RFC3339), "archive_state": "pending",
		"object_lock": requiresEnterprise, "kms_key_ref": ref.None("signing_key")}
	if cp != nil {
		m["export_ref"], m["archive_state"], m["object_lock"], m["kms_key_ref"] = "worm:"+cp.Key, "archived", "enabled", ref.Make("signing_key", keyID)
	}
	return m
}

// chainRef names the tenant's hash-chained audit log at its latest signed checkpoint by the
// checkpoint file's sha256, which an offline bundle holds and the next checkpoint names.
func chainRef(cp *audit.Checkpointed) string {
	if cp == nil {
		return ref.None("chain")
	}
	return ref.Make("chain", cp.Hash)
}

func lifecycleItems(recs []artifacts.Record, now time.Time) ([]map[string]any, []string) {
	items := make([]map[string]any, 0, len(recs))
	var evs []string
	seen := map[string]bool{}
	for _, r := range recs {
		var hold any
		if r.LegalHoldRef != "" {
			hold = r.LegalHoldRef
		}
		created, _ := time.Parse(time.RFC3339Nano, r.CreatedAt)
		items = append(items, map[string]any{"report_ref": r.ArtifactRef, "report_id": r.ReportID,
			"created_at": created.UTC().Format(time.RFC3339), "expires_at": r.Until().UTC().Format(time.RFC3339),
			"lifecycle_state": r.Effective(now), "immutable_store_ref": r.ImmutableStoreRef(), "legal_hold_ref": hold})
		if !seen[r.LastEvidenceRef] {
			seen[r.LastEvidenceRef] = true
			evs = append(evs, evidence.PublicRef(r.LastEvidenceRef))
		}
	}
	return items, evs
}
