package api_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// contractsDir is the public contracts folder beside the project (../shared/contracts).
func contractSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "contracts", "cavra-public")
	path := filepath.Join(dir, name+".schema.json")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("public contracts not found at %s", dir)
		}
		t.Skipf("public contracts not found at %s (clone outside the workspace)", dir)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateContract(t *testing.T, schema *jsonschema.Schema, body []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("export does not validate: %v\n%s", err, body)
	}
}

func TestPublicExportsValidateAgainstContracts(t *testing.T) {
	e := newEnv(t)
	if r := e.call("PUT", settingsPath, e.as("acme", auth.TenantAdmin), []byte(`{"delivery_provider":{"mode":"smtp","sender_address":"r@acme.example","credential_ref":"CAVRA_REPORT_SMTP_CREDENTIAL_REF"}}`), nil); r.status != 200 {
		t.Fatalf("settings: %s", r.body)
	}
	for _, c := range []struct{ path, schema string }{
		{"delivery-contract", "aispm-report-delivery-contract"},
		{"setup-wizard-contract", "aispm-report-setup-wizard-contract"},
	} {
		t.Run(c.path, func(t *testing.T) {
			s := contractSchema(t, c.schema)
			for _, tenant := range []string{"acme", "globex"} {
				r := e.call("GET", "/enterprise/aispm/reports/exports/"+c.path, e.as(tenant, auth.AuditorViewer), nil, nil)
				if r.status != 200 {
					t.Fatalf("%s: %d %s", tenant, r.status, r.body)
				}
				validateContract(t, s, r.body)
				if bytes.Contains(r.body, []byte("acme.example")) {
					t.Fatal("export leaks a configured address")
				}
			}
		})
	}
	// Required settings follow the tenant's mode: smtp makes the credential ref required.
	acme := e.call("GET", "/enterprise/aispm/reports/exports/delivery-contract", e.as("acme", auth.AuditorViewer), nil, nil)
	globex := e.call("GET", "/enterprise/aispm/reports/exports/delivery-contract", e.as("globex", auth.AuditorViewer), nil, nil)
	required := func(r reply) []any { return r.json(t)["setup"].(map[string]any)["required_settings"].([]any) }
	if !slices.Contains(required(acme), any("CAVRA_REPORT_PROVIDER_CREDENTIAL_REF")) {
		t.Fatal("acme (smtp) export does not require the credential reference")
	}
	if slices.Contains(required(globex), any("CAVRA_REPORT_PROVIDER_CREDENTIAL_REF")) {
		t.Fatal("globex (delivery disabled) export requires a credential reference")
	}
	requireError(t, e.call("GET", "/enterprise/aispm/reports/exports/nope", e.as("acme", auth.AuditorViewer), nil, nil), 404, "unknown_contract", "contract")
}
