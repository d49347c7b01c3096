package publicexport

import (
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
)

// searchRetrieval exports the tenant's latest audited search and latest retrieval decision.
// The download link itself never appears: download_url_ref is an opaque ref to the
// retrieval, set only when the decision was allow.
func searchRetrieval(s State) (any, []Condition, error) {
	q, r, err := s.Search()
	if err != nil {
		return nil, nil, err
	}
	var unmet []Condition
	if q == nil {
		unmet = append(unmet, Condition{"no_search", "the tenant has not run a search yet"})
	}
	if r == nil {
		unmet = append(unmet, Condition{"no_retrieval", "the tenant has not requested a retrieval yet"})
	}
	if len(unmet) > 0 {
		return nil, unmet, nil
	}
	results := make([]map[string]any, 0, len(q.Results))
	for _, x := range q.Results {
		results = append(results, map[string]any{"report_ref": x.ArtifactRef, "report_id": x.ReportID, "format": x.Format,
			"created_at": rfc3339(x.CreatedAt), "lifecycle_state": x.LifecycleState, "download_allowed": x.DownloadAllowed,
			"evidence_ref": evidence.PublicRef(x.EvidenceRef), "immutable_store_ref": x.ImmutableStoreRef})
	}
	var urlRef, expires any
	if r.Decision == search.Allow {
		urlRef, expires = "download:"+r.RetrievalRef[len("retrieval:"):], r.ExpiresAt
	}
	f := q.Filters
	filters := map[string]any{"report_ids": f.ReportIDs, "formats": f.Formats, "lifecycle_states": f.LifecycleStates,
		"from": rfc3339(orDefault(f.From, "1970-01-01T00:00:00Z")), "to": rfc3339(orDefault(f.To, q.LoggedAt))}
	red := redaction()
	red["download_url_included"] = false
	return map[string]any{
		"schema_version": "cavra.aispm.report_search_retrieval.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract, "generated_at": s.Now.UTC().Format(time.RFC3339), "tenant_ref": "tenant:" + s.Tenant.ID,
		"query":   map[string]any{"query_id": q.QueryRef, "actor_ref": q.ActorRef, "filters": filters, "rbac_scope": q.RBACScope, "retention_mode": f.Mode},
		"results": results,
		"retrieval": map[string]any{"retrieval_ref": r.RetrievalRef, "requested_report_ref": r.ArtifactRef, "access_decision": r.Decision,
			"download_url_ref": urlRef, "expires_at": expires, "watermark_required": false},
		"access_controls": map[string]any{"rbac_enforced": true, "retention_checked": true, "legal_hold_checked": true,
			"download_audit_required": true, "approval_required": r.Decision == search.RequireApproval},
		"audit": map[string]any{"audit_event_ref": evidence.PublicRef(q.EvidenceRef), "logged_at": rfc3339(q.LoggedAt),
			"evidence_refs": []string{evidence.PublicRef(q.EvidenceRef), evidence.PublicRef(r.EvidenceRef)}},
		"redaction":             red,
		"enterprise_boundaries": boundaries("search_index", "rbac_authorization", "immutable_ref_resolution", "signed_download_urls", "retrieval_audit_store"),
	}, nil, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func rfc3339(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}
