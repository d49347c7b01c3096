package api_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

const exportsPath = "/enterprise/aispm/reports/exports"

// contractSchema compiles a public export contract from the folder beside the project
// (../shared/contracts).
func contractSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	return sharedSchema(t, "cavra-public", name+".schema.json")
}

// sharedSchema compiles ../shared/contracts/<folder>/<file>; without the folder (a clone
// outside the workspace) the test is skipped, and under CI it fails.
func sharedSchema(t *testing.T, folder, file string) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "contracts", folder)
	path := filepath.Join(dir, file)
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
	if r := e.call("PUT", settingsPath, e.as("acme", auth.TenantAdmin), []byte(`{"delivery_provider":{"mode":"smtp","smtp_host":"203.0.113.25","sender_address":"r@acme.example","credential_ref":"CAVRA_REPORT_SMTP_CREDENTIAL_REF"}}`), nil); r.status != 200 {
		t.Fatalf("settings: %s", r.body)
	}
	s := contractSchema(t, "aispm-report-setup-wizard-contract")
	for _, tenant := range []string{"acme", "globex"} {
		r := e.call("GET", exportsPath+"/setup-wizard-contract", e.as(tenant, auth.AuditorViewer), nil, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tenant, r.status, r.body)
		}
		validateContract(t, s, r.body)
		if bytes.Contains(r.body, []byte("acme.example")) {
			t.Fatal("export leaks a configured address")
		}
	}
	// The delivery contract names the schedules endpoint, which the route table now serves.
	r := e.call("GET", exportsPath+"/delivery-contract", e.as("acme", auth.AuditorViewer), nil, nil)
	if r.status != 200 {
		t.Fatalf("delivery-contract: %d %s", r.status, r.body)
	}
	validateContract(t, contractSchema(t, "aispm-report-delivery-contract"), r.body)
	requireError(t, e.call("GET", exportsPath+"/kpi-metrics", e.as("acme", auth.AuditorViewer), nil, nil), 409, "export_not_ready", "contract")
	requireError(t, e.call("GET", exportsPath+"/nope", e.as("acme", auth.AuditorViewer), nil, nil), 404, "unknown_contract", "contract")
}
