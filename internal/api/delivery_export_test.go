package api_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// TestDeliveryExportsValidateAgainstContracts exports the recipient policy, the latest email
// delivery and the latest approval decision from real state, validates each against its
// public schema with formats asserted, and checks that no recipient address or sender
// domain's mailbox leaks. Before the state exists, each export is refused naming why.
func TestDeliveryExportsValidateAgainstContracts(t *testing.T) {
	e, art := deliveryEnv(t)
	exports := "/enterprise/aispm/reports/exports/"
	for _, name := range []string{"delivery-audit-event", "approval-decision"} {
		requireError(t, e.call("GET", exports+name, e.as("acme", auth.AuditorViewer), nil, nil), 409, "export_not_ready", "contract")
	}
	requireError(t, e.call("GET", exports+"recipient-policy", e.as("globex", auth.AuditorViewer), nil, nil), 409, "export_not_ready", "contract")

	gated := decodeDelivery(t, e.send(t, "key-export-1", emailBody(art, "cfo@partner.example", "ops@acme.example")))
	if r := e.call("POST", distPath+gated.DistributionRef+"/approve", e.as("acme", auth.Approver), nil, nil); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ path, schema string }{
		{"recipient-policy", "aispm-report-recipient-policy"},
		{"delivery-audit-event", "aispm-report-delivery-audit-event"},
		{"approval-decision", "aispm-report-approval-decision"},
	} {
		t.Run(c.path, func(t *testing.T) {
			r := e.call("GET", exports+c.path, e.as("acme", auth.AuditorViewer), nil, nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			validateContract(t, contractSchema(t, c.schema), r.body)
			for _, leak := range []string{"cfo@", "ops@", "reports@", "@partner.example", "@acme.example"} {
				if bytes.Contains(r.body, []byte(leak)) {
					t.Fatalf("export leaks %q: %s", leak, r.body)
				}
			}
		})
	}
	audit := e.call("GET", exports+"delivery-audit-event", e.as("acme", auth.AuditorViewer), nil, nil).json(t)
	if ev := audit["audit_event"].(map[string]any); ev["status"] != "sent" || audit["approval"].(map[string]any)["decision"] != "approved" {
		t.Fatalf("delivery audit does not reflect the approved send: %v", audit)
	}
	if n := audit["recipient_summary"].(map[string]any)["recipient_count"]; n != float64(2) {
		t.Fatalf("recipient_count %v", n)
	}

	// An expired approval exports as expired, decided by the system.
	e.send(t, "key-export-2", emailBody(art, "late@partner.example"))
	e.clock.Advance(73 * time.Hour)
	if _, err := e.app.Delivery.RetryDue(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	r := e.call("GET", exports+"approval-decision", e.as("acme", auth.AuditorViewer), nil, nil)
	validateContract(t, contractSchema(t, "aispm-report-approval-decision"), r.body)
	if d := r.json(t)["decision"].(map[string]any); d["decision"] != "expired" || d["decided_by"] != "role:system" {
		t.Fatalf("expired decision: %v", d)
	}
}

// TestApprovalDecisionExportsWhatTheDeliveryRecorded changes the provider mode and the
// policy after sends: the exports keep the mode the send was made through, and a denied send
// to a domain without a rule is refused rather than called an approved domain.
func TestApprovalDecisionExportsWhatTheDeliveryRecorded(t *testing.T) {
	e, art := deliveryEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	gated := decodeDelivery(t, e.send(t, "key-mode-1", emailBody(art, "cfo@partner.example")))
	if r := e.call("POST", distPath+gated.DistributionRef+"/approve", e.as("acme", auth.Approver), nil, nil); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	smtp := strings.Replace(goodSettings, `"mode": "ses"`, `"mode": "smtp", "smtp_host": "203.0.113.25", "credential_ref": "CAVRA_REPORT_SMTP_CREDENTIAL_REF"`, 1)
	if r := e.call("PUT", settingsPath, admin, []byte(smtp), nil); r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	decision := e.call("GET", exportsPath+"/approval-decision", e.as("acme", auth.AuditorViewer), nil, nil)
	validateContract(t, contractSchema(t, "aispm-report-approval-decision"), decision.body)
	if mode := decision.json(t)["subject"].(map[string]any)["delivery_mode"]; mode != "ses" {
		t.Fatalf("approval-decision delivery_mode %v, want ses (the mode of the send)", mode)
	}
	audit := e.call("GET", exportsPath+"/delivery-audit-event", e.as("acme", auth.AuditorViewer), nil, nil)
	if mode := audit.json(t)["audit_event"].(map[string]any)["delivery_mode"]; mode != "ses" {
		t.Fatalf("delivery-audit-event delivery_mode %v, want ses", mode)
	}

	lenient := strings.Replace(testPolicy, `"default_action": "deny"`, `"default_action": "require_approval"`, 1)
	if r := e.call("PUT", policyPath, admin, []byte(lenient), nil); r.status != 200 {
		t.Fatalf("policy: %d %s", r.status, r.body)
	}
	unknown := decodeDelivery(t, e.send(t, "key-mode-2", emailBody(art, "cfo@stranger.example")))
	if r := e.call("POST", distPath+unknown.DistributionRef+"/deny", e.as("acme", auth.Approver), nil, nil); r.status != 200 {
		t.Fatalf("deny: %d %s", r.status, r.body)
	}
	r := e.call("GET", exportsPath+"/approval-decision", e.as("acme", auth.AuditorViewer), nil, nil)
	requireError(t, r, 409, "export_not_ready", "contract")
	if !strings.Contains(string(r.body), "a domain without a rule in the recipient policy") {
		t.Fatalf("refusal does not name the unknown domain: %s", r.body)
	}
}
