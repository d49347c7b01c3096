package settings_test

import (
	"encoding/json"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDefaultsSatisfyEveryRule(t *testing.T) {
	if _, err := settings.Parse(mustMarshal(t, settings.Defaults("Org")), "Org"); err != nil {
		t.Fatal(err)
	}
}

func TestSecretReferencesAreAccepted(t *testing.T) {
	for _, ref := range []string{
		"arn:aws:secretsmanager:eu-central-1:123456789012:secret:reports/smtp-AbCdEf",
		"arn:aws:ssm:us-east-1:123456789012:parameter/reports/sendgrid",
		"CAVRA_REPORT_SMTP_CREDENTIAL_REF",
	} {
		body := `{"delivery_provider":{"mode":"smtp","smtp_host":"203.0.113.25","sender_address":"r@acme.example","credential_ref":"` + ref + `"}}`
		if _, err := settings.Parse([]byte(body), "Org"); err != nil {
			t.Errorf("%s refused: %v", ref, err)
		}
	}
}

func TestEveryFieldHasAUniquePublicName(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range settings.Fields {
		if seen[f.Name] || len(f.Name) < len("CAVRA_REPORT_X") {
			t.Fatalf("bad or duplicate field name %q", f.Name)
		}
		seen[f.Name] = true
	}
}
