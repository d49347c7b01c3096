package publicexport

import (
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// BuildPackageManifest exports a signed package's manifest. Refs and digests are those of
// the stored manifest and signature; the audit chain does not exist yet, so chain_ref is
// the documented placeholder.
func BuildPackageManifest(s State) ([]byte, error) {
	rec, err := s.Package()
	if err != nil {
		return nil, err
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
	return scanned(map[string]any{
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
	})
}

// lifecycleLimit bounds the artifacts listed in a retention-lifecycle packet.
const lifecycleLimit = 100

// BuildRetentionLifecycle exports the tenant's retention policy and the lifecycle of its
// most recent artifacts. The audit log is not yet sealed into archive segments, so the audit
// export is reported as pending with placeholder refs, and deletion lists only the states
// this build deletes from.
func BuildRetentionLifecycle(s State) ([]byte, error) {
	recs, err := s.Artifacts()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, notReady("the tenant has no rendered artifact yet")
	}
	if s.SigningKeyID == "" {
		return nil, notReady("no signing key is configured")
	}
	start, err := s.AuditStart()
	if err != nil {
		return nil, err
	}
	items, evs := lifecycleItems(recs[:min(len(recs), lifecycleLimit)], s.Now)
	created, _ := time.Parse(time.RFC3339Nano, start)
	st := s.Settings.RetentionDays
	return scanned(map[string]any{
		"schema_version": "cavra.aispm.report_retention_lifecycle.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract, "generated_at": s.Now.UTC().Format(time.RFC3339), "tenant_ref": ref.Make("tenant", s.Tenant.ID),
		"policy": map[string]any{"policy_id": "retention_policy:" + s.Tenant.ID, "default_retention_days": st.GovernanceRecord,
			"audit_event_retention_days": st.AuditRecord, "immutable_storage_required": true, "legal_hold_supported": true,
			"deletion_requires_approval": false},
		"report_lifecycle": items,
		"audit_export_lifecycle": map[string]any{"export_ref": ref.None("audit_export"), "created_at": created.UTC().Format(time.RFC3339),
			"expires_at": created.AddDate(0, 0, st.AuditRecord).UTC().Format(time.RFC3339), "archive_state": "pending",
			"object_lock": "enabled", "kms_key_ref": "signing_key:" + s.SigningKeyID},
		"deletion_policy": map[string]any{"allowed_states": artifacts.DeletableStates, "blocked_states": artifacts.BlockedStates(),
			"approval_required": false, "tombstone_required": true},
		"evidence":              map[string]any{"retention_evidence_refs": evs, "archive_manifest_ref": ref.None("manifest"), "chain_ref": ref.None("chain")},
		"redaction":             redaction(),
		"enterprise_boundaries": boundaries("retention_worker", "legal_hold_store", "immutable_archive", "kms_integration", "deletion_approval_workflow"),
	})
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
