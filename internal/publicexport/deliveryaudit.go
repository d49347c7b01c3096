package publicexport

import (
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// recipientPolicy exports the tenant's saved recipient policy. Encryption of attachments and
// customer-managed keys are not implemented, so they export as false.
func recipientPolicy(s State) (any, []Condition, error) {
	p, err := s.RecipientPolicy()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !p.Configured || p.EvidenceRef == "":
		return nil, []Condition{{"no_recipient_policy", "the tenant has not saved a recipient policy yet"}}, nil
	case len(p.Policy.DomainRules) == 0:
		return nil, []Condition{{"no_domain_rule", "the recipient policy has no domain rule"}}, nil
	}
	pol := p.Policy
	rules := make([]map[string]any, 0, len(pol.DomainRules))
	for _, r := range pol.DomainRules {
		allowed := r.Classification != delivery.BlockedDomain && len(r.AllowedChannels) > 0
		rules = append(rules, map[string]any{"domain": r.Domain, "classification": r.Classification, "allowed": allowed,
			"approval_required":   allowed && r.Classification != delivery.Internal && pol.ExternalDeliveryDefault == "require_approval",
			"encryption_required": false})
	}
	groups := make([]map[string]any, 0, len(pol.RecipientGroups))
	for _, g := range pol.RecipientGroups {
		groups = append(groups, map[string]any{"group_ref": g.GroupRef, "display_name": strings.TrimPrefix(g.GroupRef, "group:"),
			"role_scope": "tenant:" + s.Tenant.ID, "member_count": g.MemberCount, "source": "static_ref", "addresses_redacted": true})
	}
	ev := evidence.PublicRef(p.EvidenceRef)
	return map[string]any{
		"schema_version": "cavra.aispm.report_recipient_policy.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract, "generated_at": s.Now.UTC().Format(time.RFC3339), "tenant_ref": "tenant:" + s.Tenant.ID,
		"policy": map[string]any{"policy_ref": "recipient_policy:" + s.Tenant.ID, "name": "Recipient policy", "status": "active",
			"owner_ref": "role:tenant_admin", "default_action": pol.DefaultAction, "external_delivery_default": pol.ExternalDeliveryDefault},
		"domain_rules":                 rules,
		"recipient_groups":             groups,
		"delivery_channel_eligibility": channelEligibility(pol, s.Settings),
		"approval_policy": map[string]any{"external_recipient_approval_required": pol.ExternalDeliveryDefault == "require_approval",
			"new_domain_approval_required": pol.DefaultAction == "require_approval", "recipient_group_change_approval_required": false,
			"approver_group": "role:approver", "approval_evidence_required": true},
		"encryption_policy": map[string]any{"attachment_encryption_required": false, "minimum_transport": pol.MinimumTransport,
			"kms_key_ref_required": false, "customer_managed_key_supported": false},
		"audit": map[string]any{"policy_change_audit_ref": ev, "last_reviewed_at": rfc3339(p.UpdatedAt), "review_evidence_refs": []string{ev}},
		"redaction": map[string]any{"recipient_addresses_included": false, "idp_group_members_included": false,
			"provider_tokens_included": false, "customer_records_included": false, "secrets_included": false, "payload_handling": "metadata_only"},
		"enterprise_boundaries": boundaries("recipient_directory_sync", "idp_group_resolution", "domain_verification",
			"encryption_key_resolution", "approval_workflow"),
	}, nil, nil
}

// channelEligibility maps the product's channels to the contract's: the portal is the
// download channel, email goes out through the tenant's configured provider mode.
func channelEligibility(pol delivery.Policy, st settings.Settings) []map[string]any {
	out := []map[string]any{{"channel": "download", "allowed": pol.ChannelEligibility[delivery.Portal],
		"requires_verified_sender": false, "requires_encryption": false}}
	if mode := st.DeliveryProvider.Mode; mode != "disabled" {
		out = append(out, map[string]any{"channel": mode, "allowed": pol.ChannelEligibility[delivery.Email],
			"requires_verified_sender": mode != "webhook", "requires_encryption": false})
	}
	return out
}

// latestDelivery returns the newest delivery that keep accepts.
func latestDelivery(s State, keep func(delivery.Record) bool) (delivery.Record, bool, error) {
	recs, err := s.Deliveries()
	if err != nil {
		return delivery.Record{}, false, err
	}
	for _, r := range recs {
		if keep(r) {
			return r, true, nil
		}
	}
	return delivery.Record{}, false, nil
}

var auditStatus = map[string]string{
	delivery.StatusDelivered: "sent", delivery.StatusBlocked: "blocked_policy", delivery.StatusPendingApproval: "blocked_requires_approval",
	delivery.StatusRetryScheduled: "retry_scheduled", delivery.StatusQueued: "accepted", delivery.StatusSending: "accepted",
	delivery.StatusDeadLettered: "failed", delivery.StatusDenied: "failed", delivery.StatusExpired: "failed", delivery.StatusVoided: "failed",
}

// deliveryAuditEvent exports the tenant's latest email delivery (the contract's delivery
// modes are mail providers) with the mode its record holds. Recipients appear as counts and
// domains only.
func deliveryAuditEvent(s State) (any, []Condition, error) {
	rec, ok, err := latestDelivery(s, func(r delivery.Record) bool { return r.Channel == delivery.Email })
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, []Condition{{"no_email_delivery", "the tenant has sent no email delivery yet"}}, nil
	}
	mode, unmet := deliveryMode(rec)
	if len(unmet) > 0 {
		return nil, unmet, nil
	}
	pol, err := s.RecipientPolicy()
	if err != nil {
		return nil, nil, err
	}
	allowed, external := recipientDomains(rec, pol.Policy)
	last := rec.EvidenceRefs[len(rec.EvidenceRefs)-1]
	return map[string]any{
		"schema_version": "cavra.aispm.report_delivery_audit_event.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract,
		"audit_event": map[string]any{"audit_event_id": evidence.PublicRef(last), "action": "send", "occurred_at": rfc3339(rec.UpdatedAt),
			"tenant_ref": "tenant:" + s.Tenant.ID, "actor_ref": "role:" + rec.RequesterRole, "report_id": rec.ReportID,
			"requested_format": rec.Format, "delivery_mode": mode, "status": auditStatus[rec.Status]},
		"recipient_summary": map[string]any{"recipient_count": len(rec.Recipients), "allowed_domains": allowed,
			"external_domain_count": external, "recipient_addresses_redacted": true},
		"approval": map[string]any{"approval_required": rec.ApprovalRef != "", "approval_ref": nullable(rec.ApprovalRef), "decision": approvalState(rec)},
		"retry": map[string]any{"attempt": len(rec.Attempts), "max_attempts": s.Settings.ScheduleAndAudit.MaxDeliveryAttempts,
			"next_retry_at": nullable(rfc3339(rec.NextAttemptAt)), "terminal": delivery.Final(rec.Status)},
		"evidence": map[string]any{"evidence_refs": publicRefs(rec.EvidenceRefs), "report_digest_ref": rec.SubjectDigest,
			"delivery_audit_ref": evidence.PublicRef(last), "immutable_store_ref": rec.ImmutableStoreRef},
		"redaction": map[string]any{"raw_report_content_included": false, "provider_response_included": false,
			"recipient_addresses_included": false, "secrets_included": false, "payload_handling": "metadata_only"},
		"enterprise_boundaries": boundaries("audit_store", "provider_response_storage", "retry_worker", "immutable_evidence_store"),
	}, nil, nil
}

// recipientDomains lists the recipients' domains the policy allows and counts the
// external ones (any domain not classified internal).
func recipientDomains(rec delivery.Record, pol delivery.Policy) ([]string, int) {
	allowed, external := []string{}, map[string]bool{}
	for _, a := range rec.Recipients {
		_, d, _ := strings.Cut(a, "@")
		class := ""
		for _, r := range pol.DomainRules {
			if r.Domain == d {
				class = r.Classification
			}
		}
		if class != delivery.Internal {
			external[d] = true
		}
		if class != "" && class != delivery.BlockedDomain && !slices.Contains(allowed, d) {
			allowed = append(allowed, d)
		}
	}
	slices.Sort(allowed)
	return allowed, len(external)
}

func approvalState(rec delivery.Record) string {
	switch {
	case rec.ApprovalRef == "":
		return "not_required"
	case rec.Status == delivery.StatusExpired:
		return "expired"
	case rec.Approval == nil:
		return "pending"
	case rec.Approval.Decision == "approved":
		return "approved"
	}
	return "denied"
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func publicRefs(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, evidence.PublicRef(r))
	}
	return out
}

// approvalDecision exports the tenant's latest decided (or expired) approval. Its subject
// is what the delivery recorded at send: the provider mode and the policy evaluation of
// its recipients, not today's settings or policy.
func approvalDecision(s State) (any, []Condition, error) {
	rec, ok, err := latestDelivery(s, func(r delivery.Record) bool {
		return r.Approval != nil || r.ApprovalRef != "" && r.Status == delivery.StatusExpired
	})
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, []Condition{{"no_decided_approval", "no approval request has been decided or has expired yet"}}, nil
	}
	mode, unmet := deliveryMode(rec)
	scope, scopeUnmet := recipientScope(rec)
	if unmet = append(unmet, scopeUnmet...); len(unmet) > 0 {
		return nil, unmet, nil
	}
	d := decisionOf(rec)
	decisionDigest, err := canonjson.DigestOf(d)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{
		"schema_version": "cavra.aispm.report_approval_decision.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract, "generated_at": s.Now.UTC().Format(time.RFC3339), "tenant_ref": "tenant:" + s.Tenant.ID,
		"approval_request": map[string]any{"approval_ref": rec.ApprovalRef, "request_type": "report_send", "requested_by": "role:" + rec.RequesterRole,
			"requested_at": rfc3339(rec.CreatedAt), "resource_ref": rec.DeliveryRef, "risk_level": riskLevel(rec.Decision),
			"reason_code": firstOr(rec.Decision.Reasons, "approval_required")},
		"decision": map[string]any{"decision_ref": "decision:" + rec.ID(), "decision": d.Decision, "decided_by": d.By,
			"decided_at": rfc3339(d.At), "expires_at": rfc3339(rec.ApprovalExpiresAt),
			"conditions": []string{"bound_to_artifact_digest", "policy_rechecked_at_delivery"}},
		"subject": map[string]any{"report_ids": []string{rec.ReportID}, "formats": []string{rec.Format},
			"delivery_mode": mode, "recipient_scope": scope, "recipient_addresses_redacted": true},
		"policy_context": map[string]any{"recipient_policy_ref": "recipient_policy:" + s.Tenant.ID, "schedule_ref": ref.None("schedule"),
			"domain_rule_ref": ref.None("domain_rule"), "approval_policy_ref": "approval_policy:" + s.Tenant.ID},
		"evidence": map[string]any{"approval_evidence_refs": publicRefs(rec.EvidenceRefs), "request_digest_ref": rec.RequestDigest,
			"decision_digest_ref": decisionDigest, "immutable_store_ref": rec.ImmutableStoreRef},
		"audit": map[string]any{"audit_event_ref": evidence.PublicRef(d.EvidenceRef), "logged_at": rfc3339(d.At), "review_required_by": nil},
		"redaction": map[string]any{"approver_identity_included": false, "recipient_addresses_included": false,
			"raw_report_content_included": false, "private_justification_included": false, "customer_records_included": false,
			"secrets_included": false, "payload_handling": "metadata_only"},
		"enterprise_boundaries": boundaries("approval_workflow", "approver_identity_resolution", "policy_exception_store",
			"immutable_decision_audit", "notification_delivery"),
	}, nil, nil
}

// decided is the one outcome of an approval request: a decision by a role, or its expiry.
type decided struct {
	Decision, By, At, EvidenceRef, BoundDigest string
}

func decisionOf(rec delivery.Record) decided {
	if a := rec.Approval; a != nil {
		d := "approved"
		if a.Decision != "approved" {
			d = "rejected"
		}
		return decided{Decision: d, By: "role:" + a.ApproverRole, At: a.DecidedAt, EvidenceRef: a.EvidenceRef, BoundDigest: a.BoundDigest}
	}
	last := rec.History[len(rec.History)-1] // the expiry
	return decided{Decision: "expired", By: "role:system", At: last.At, EvidenceRef: last.EvidenceRef, BoundDigest: rec.SubjectDigest}
}

// riskLevel rates a gated send by its recorded evaluation: external recipients are high.
func riskLevel(d delivery.Decision) string {
	if d.External() {
		return "high"
	}
	return "medium"
}

// recipientScope is the contract's scope of a delivery's recipients as the policy evaluation
// recorded at send classified them. A domain without a rule is no approved domain, internal
// or external, and the contract has no other scope for it.
func recipientScope(rec delivery.Record) (string, []Condition) {
	switch {
	case rec.Channel == delivery.GRC:
		return "system_connector", nil
	case rec.Decision.UnknownDomain():
		return "", []Condition{{"recipient_domain_not_in_policy",
			"the delivery went to a domain without a rule in the recipient policy, which recipient_scope cannot express"}}
	case rec.Decision.External():
		return "approved_external_domain", nil
	}
	return "approved_internal_domain", nil
}

// deliveryMode is the contract's delivery mode of a delivery as its record holds it: the
// portal is download, email the provider mode recorded when it was sent. The GRC export is a
// copy into the tenant's GRC folder, which no mode of the contract names (its signed webhook
// is not implemented).
func deliveryMode(rec delivery.Record) (string, []Condition) {
	switch {
	case rec.Channel == delivery.Portal:
		return "download", nil
	case rec.Channel == delivery.GRC:
		return "", []Condition{{"delivery_mode_not_in_contract",
			"the delivery went out as a GRC folder export, which no delivery mode of the contract names"}}
	case rec.ProviderMode == "":
		return "", []Condition{{"delivery_mode_not_recorded", "the delivery was recorded before deliveries kept their provider mode"}}
	case rec.ProviderMode == "disabled":
		return "", []Condition{{"delivery_mode_disabled", "the delivery was sent while the delivery provider mode was disabled"}}
	}
	return rec.ProviderMode, nil
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}
