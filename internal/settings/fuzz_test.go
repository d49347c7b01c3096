package settings_test

import (
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// FuzzParse: any body either parses into settings that pass every field rule, or is refused
// with a 400 problem; it never panics and never fails in another way.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"delivery_provider":{"mode":"ses","sender_address":"a@b.example"}}`,
		`{"recipient_governance":{"allowed_domains":["a.example"],"blocked_domains":["b.example"]}}`,
		`{"retention_days":{"audit_record":1095}}`, `[]`, `null`, `{"branding":{"primary_color":"#ABCDEF"}}`,
		`{"delivery_provider":{"credential_ref":"arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := settings.Parse(body, "Fuzz Org")
		if err != nil {
			p, ok := problem.As(err)
			if !ok || p.Kind != problem.Invalid || p.Code == "" {
				t.Fatalf("refusal is not a 400 problem: %v", err)
			}
			return
		}
		if st.SchemaVersion != settings.SchemaVersion {
			t.Fatalf("accepted settings have version %q", st.SchemaVersion)
		}
		if _, err := settings.Parse(mustMarshal(t, st), "Fuzz Org"); err != nil {
			t.Fatalf("accepted settings do not parse again: %v", err)
		}
	})
}
