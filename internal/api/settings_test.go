package api_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

const settingsPath = "/enterprise/aispm/reports/settings"

const goodSettings = `{
  "organization_profile": {"display_name": "Acme Corp", "default_timezone": "Europe/Berlin"},
  "delivery_provider": {"mode": "ses", "sender_address": "reports@acme.example"},
  "recipient_governance": {"allowed_domains": ["acme.example"], "external_delivery_default": "require_approval"},
  "retention_days": {"operational_record": 120, "governance_record": 400, "audit_record": 2555}
}`

func TestSettingsRoundTripWithEvidence(t *testing.T) {
	e := newEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	first := e.call("GET", settingsPath, admin, nil, nil)
	if first.status != 200 || first.json(t)["configured"] != false {
		t.Fatalf("defaults: %d %s", first.status, first.body)
	}
	before := e.evidenceCount("acme")
	put := e.call("PUT", settingsPath, admin, []byte(goodSettings), nil)
	if put.status != 200 {
		t.Fatalf("put: %d %s", put.status, put.body)
	}
	body := put.json(t)
	if body["version"] != float64(1) || !strings.HasPrefix(body["evidence_ref"].(string), "evidence:ev_") {
		t.Fatalf("put body: %s", put.body)
	}
	if e.evidenceCount("acme") != before+1 {
		t.Fatal("settings change wrote no evidence")
	}
	got := e.call("GET", settingsPath, e.as("acme", auth.SecurityLeadership), nil, nil).json(t)
	st := got["settings"].(map[string]any)
	if st["organization_profile"].(map[string]any)["default_timezone"] != "Europe/Berlin" || got["configured"] != true {
		t.Fatalf("read back: %v", got)
	}
	// Omitted fields took their defaults.
	if st["schedule_and_audit"].(map[string]any)["max_delivery_attempts"] != float64(5) {
		t.Fatalf("defaults not applied: %v", st["schedule_and_audit"])
	}
	// The other tenant still sees only its own (default) settings.
	other := e.call("GET", settingsPath, e.as("globex", auth.TenantAdmin), nil, nil).json(t)
	if other["configured"] != false {
		t.Fatalf("globex sees acme's settings: %v", other)
	}
}

// TestSecretValuesAreRefusedAndNeverStored pastes secrets into fields; each is refused with
// 400 naming the field, the value is not echoed, and no byte of it reaches the data folder.
func TestSecretValuesAreRefusedAndNeverStored(t *testing.T) {
	e := newEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	cases := []struct{ name, body, field, secret string }{
		{"password assignment", `{"delivery_provider":{"mode":"smtp","sender_address":"a@acme.example","credential_ref":"SMTP_PASSWORD=Tr0ub4dor&3xyz"}}`,
			"delivery_provider.credential_ref", "Tr0ub4dor&3xyz"},
		{"api key in ref", `{"delivery_provider":{"mode":"sendgrid","sender_address":"a@acme.example","credential_ref":"SG.q8Jd83kdLw0Pq9xZmN4vT7yU2bR6cE1fH5gK"}}`,
			"delivery_provider.credential_ref", "SG.q8Jd83kdLw0Pq9xZmN4vT7yU2bR6cE1fH5gK"},
		{"aws access key", `{"branding":{"footer_text":"AKIAIOSFODNN7EXAMPLE"}}`, "branding.footer_text", "AKIAIOSFODNN7EXAMPLE"},
		{"private key", `{"organization_profile":{"industry":"-----BEGIN PRIVATE KEY-----MIIEvQ"}}`, "organization_profile.industry", "MIIEvQ"},
		{"token in webhook ref", `{"delivery_provider":{"mode":"webhook","webhook_signing_secret_ref":"whsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0"}}`,
			"delivery_provider.webhook_signing_secret_ref", "whsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
		{"not a reference", `{"delivery_provider":{"mode":"smtp","sender_address":"a@acme.example","credential_ref":"hunter2"}}`,
			"delivery_provider.credential_ref", "hunter2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.evidenceCount("acme")
			r := e.call("PUT", settingsPath, admin, []byte(c.body), nil)
			if r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			requireError(t, r, 400, "", c.field)
			if bytes.Contains(r.body, []byte(c.secret)) {
				t.Fatalf("refusal echoes the secret: %s", r.body)
			}
			if e.evidenceCount("acme") != before {
				t.Fatal("a refused save wrote evidence")
			}
			if got := e.call("GET", settingsPath, admin, nil, nil).json(t)["configured"]; got != false {
				t.Fatal("a refused save changed settings")
			}
			assertNotOnDisk(t, e.dir, c.secret)
		})
	}
}

func assertNotOnDisk(t *testing.T, dir, secret string) {
	t.Helper()
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("secret found in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSettingsBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	if r := e.call("PUT", settingsPath, admin, []byte(goodSettings), nil); r.status != 200 {
		t.Fatalf("seed: %s", r.body)
	}
	cases := []struct {
		name, body  string
		hdr         map[string]string
		status      int
		code, field string
	}{
		{"malformed json", `{"organization_profile":`, nil, 400, "malformed_json", ""},
		{"not an object", `[1,2]`, nil, 400, "schema_violation", ""},
		{"unknown field", `{"colour":"red"}`, nil, 400, "schema_violation", ""},
		{"unknown nested field", `{"branding":{"logo_url":"x"}}`, nil, 400, "schema_violation", "branding"},
		{"wrong type", `{"schedule_and_audit":{"max_delivery_attempts":"five"}}`, nil, 400, "schema_violation", "schedule_and_audit.max_delivery_attempts"},
		{"bad enum", `{"delivery_provider":{"mode":"carrier_pigeon"}}`, nil, 400, "schema_violation", "delivery_provider.mode"},
		{"retention below class minimum", `{"retention_days":{"governance_record":30}}`, nil, 400, "schema_violation", "retention_days.governance_record"},
		{"bad timezone", `{"organization_profile":{"default_timezone":"Mars/Olympus"}}`, nil, 400, "invalid_field", "organization_profile.default_timezone"},
		{"sender required for ses", `{"delivery_provider":{"mode":"ses"}}`, nil, 400, "invalid_field", "delivery_provider.sender_address"},
		{"domain both allowed and blocked", `{"recipient_governance":{"allowed_domains":["x.example"],"blocked_domains":["x.example"]}}`, nil, 400, "invalid_field", "recipient_governance.allowed_domains"},
		{"upper-case domain", `{"recipient_governance":{"allowed_domains":["X.Example"]}}`, nil, 400, "invalid_field", "recipient_governance.allowed_domains"},
		{"stale If-Match", goodSettings, map[string]string{"If-Match": `"7"`}, 412, "version_mismatch", "If-Match"},
		{"bad If-Match", goodSettings, map[string]string{"If-Match": "abc"}, 400, "invalid_field", "If-Match"},
		{"form content type", goodSettings, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "Content-Type"},
		{"oversized", `{"branding":{"footer_text":"` + strings.Repeat("x", 300<<10) + `"}}`, nil, 413, "body_too_large", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.evidenceCount("acme")
			requireError(t, e.call("PUT", settingsPath, admin, []byte(c.body), c.hdr), c.status, c.code, c.field)
			if e.evidenceCount("acme") != before {
				t.Fatal("refused request wrote evidence")
			}
			if v := e.call("GET", settingsPath, admin, nil, nil).json(t)["version"]; v != float64(1) {
				t.Fatalf("refused request changed settings to version %v", v)
			}
		})
	}
	// A matching If-Match is accepted.
	if r := e.call("PUT", settingsPath, admin, []byte(goodSettings), map[string]string{"If-Match": `"1"`}); r.status != 200 {
		t.Fatalf("matching If-Match: %d %s", r.status, r.body)
	}
}

// TestProviderTargetsAreCheckedWhenSaved refuses, with 400 naming the field and nothing
// stored, a mode without what it needs, a webhook that is not https, and hosts on
// loopback, link-local or private addresses (this deployment allows none).
func TestProviderTargetsAreCheckedWhenSaved(t *testing.T) {
	e := newEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	const ref = `"credential_ref":"CAVRA_REPORT_SMTP_CREDENTIAL_REF"`
	for _, c := range []struct{ name, provider, field string }{
		{"smtp without host", `"mode":"smtp","sender_address":"a@acme.example",` + ref, "delivery_provider.smtp_host"},
		{"smtp without credential", `"mode":"smtp","smtp_host":"203.0.113.25","sender_address":"a@acme.example"`, "delivery_provider.credential_ref"},
		{"loopback relay", `"mode":"smtp","smtp_host":"127.0.0.1","sender_address":"a@acme.example",` + ref, "delivery_provider.smtp_host"},
		{"name of a loopback relay", `"mode":"microsoft365","smtp_host":"localhost","sender_address":"a@acme.example",` + ref, "delivery_provider.smtp_host"},
		{"metadata service", `"mode":"sendgrid","smtp_host":"169.254.169.254","sender_address":"a@acme.example",` + ref, "delivery_provider.smtp_host"},
		{"bad port", `"mode":"smtp","smtp_host":"203.0.113.25","smtp_port":70000,"sender_address":"a@acme.example",` + ref, "delivery_provider.smtp_port"},
		{"plain text smtp", `"mode":"smtp","smtp_host":"203.0.113.25","smtp_security":"none","sender_address":"a@acme.example",` + ref, "delivery_provider.smtp_security"},
		{"webhook without url", `"mode":"webhook","webhook_signing_secret_ref":"CAVRA_REPORT_WEBHOOK_REF"`, "delivery_provider.webhook_url"},
		{"webhook over http", `"mode":"webhook","webhook_url":"http://203.0.113.25/hook","webhook_signing_secret_ref":"CAVRA_REPORT_WEBHOOK_REF"`, "delivery_provider.webhook_url"},
		{"webhook with user info", `"mode":"webhook","webhook_url":"https://u:p@203.0.113.25/hook","webhook_signing_secret_ref":"CAVRA_REPORT_WEBHOOK_REF"`, "delivery_provider.webhook_url"},
		{"webhook on a private address", `"mode":"webhook","webhook_url":"https://10.0.0.8/hook","webhook_signing_secret_ref":"CAVRA_REPORT_WEBHOOK_REF"`, "delivery_provider.webhook_url"},
		{"webhook without secret", `"mode":"webhook","webhook_url":"https://203.0.113.25/hook"`, "delivery_provider.webhook_signing_secret_ref"},
		{"grc webhook on loopback", `"mode":"ses","sender_address":"a@acme.example","grc_webhook_url":"https://[::1]/grc","grc_webhook_secret_ref":"CAVRA_REPORT_GRC_REF"`, "delivery_provider.grc_webhook_url"},
		{"grc webhook without secret", `"mode":"ses","sender_address":"a@acme.example","grc_webhook_url":"https://203.0.113.25/grc"`, "delivery_provider.grc_webhook_secret_ref"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.evidenceCount("acme")
			r := e.call("PUT", settingsPath, admin, []byte(`{"delivery_provider":{`+c.provider+`}}`), nil)
			requireError(t, r, 400, "", c.field)
			if e.evidenceCount("acme") != before || e.call("GET", settingsPath, admin, nil, nil).json(t)["configured"] != false {
				t.Fatal("a refused save changed something")
			}
		})
	}
	ok := `{"delivery_provider":{"mode":"webhook","webhook_url":"https://203.0.113.25/hook","webhook_signing_secret_ref":"CAVRA_REPORT_WEBHOOK_REF"}}`
	if r := e.call("PUT", settingsPath, admin, []byte(ok), nil); r.status != 200 {
		t.Fatalf("a public https webhook: %d %s", r.status, r.body)
	}
}
