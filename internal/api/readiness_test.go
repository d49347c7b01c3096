package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/publicexport"
)

// checkReadiness reads acme's readiness view and holds every entry to its export: 200
// exactly when ready, otherwise 409 export_not_ready naming each unmet condition.
func checkReadiness(t *testing.T, e *env) map[string]publicexport.Readiness {
	t.Helper()
	r := e.call("GET", exportsPath, e.as("acme", auth.AuditorViewer), nil, nil)
	if r.status != 200 {
		t.Fatalf("readiness view: %d %s", r.status, r.body)
	}
	var v publicexport.View
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Exports) != len(publicexport.PublicContracts) || v.TenantRef != "tenant:acme" {
		t.Fatalf("view lists %d exports for %s, want %d", len(v.Exports), v.TenantRef, len(publicexport.PublicContracts))
	}
	out := map[string]publicexport.Readiness{}
	for _, x := range v.Exports {
		out[x.Name] = x
		got := e.call("GET", exportsPath+"/"+x.Name, e.as("acme", auth.AuditorViewer), nil, nil)
		if x.Ready != (got.status == 200) {
			t.Errorf("%s: ready %v, export %d %s", x.Name, x.Ready, got.status, got.body)
			continue
		}
		if !x.Ready {
			requireError(t, got, 409, "export_not_ready", "contract")
		}
		for _, c := range x.Unmet {
			if !strings.Contains(string(got.body), c.Message) {
				t.Errorf("%s: condition %s not named by the export: %s", x.Name, c.Code, got.body)
			}
		}
	}
	return out
}

func conditionCodes(r publicexport.Readiness) []string {
	var codes []string
	for _, c := range r.Unmet {
		codes = append(codes, c.Code)
	}
	return codes
}

// TestExportReadinessView walks a tenant from nothing to sealed evidence: at each step the
// view agrees with the exports, and the lifecycle export names the audit log only once it
// has a signed checkpoint.
func TestExportReadinessView(t *testing.T) {
	e := newEnv(t)
	requireError(t, e.call("GET", exportsPath, e.as("acme", auth.ReportOperator), nil, nil), 403, "forbidden", "")
	aud := e.as("acme", auth.AuditorViewer)
	requireError(t, e.call("GET", exportsPath+"/export-package-manifest", aud, nil, nil), 409, "export_not_ready", "contract")
	requireError(t, e.call("GET", exportsPath+"/export-package-manifest?package=package:pkg_nope", aud, nil, nil), 404, "package_not_found", "")

	fresh := checkReadiness(t, e)
	for name, want := range map[string]string{
		"setup-wizard-contract": "", "delivery-contract": "", "export-package-manifest": "no_package",
		"retention-lifecycle": "no_artifact", "search-retrieval": "no_search no_retrieval", "kpi-metrics": "not_implemented",
	} {
		if got := strings.Join(conditionCodes(fresh[name]), " "); got != want {
			t.Errorf("fresh tenant, %s: conditions %q, want %q", name, got, want)
		}
	}

	seedEvents(t, e, "acme", 20, "ready")
	body := renderBody("agent_risk_register", "csv")
	body["package_type"] = "grc_upload_package"
	e.render(t, auth.TenantAdmin, body)
	if got := checkReadiness(t, e); !got["retention-lifecycle"].Ready || !got["export-package-manifest"].Ready {
		t.Fatalf("after a packaged render: %+v %+v", got["retention-lifecycle"], got["export-package-manifest"])
	}
	lc := e.call("GET", exportsPath+"/retention-lifecycle", e.as("acme", auth.AuditorViewer), nil, nil)
	validateContract(t, contractSchema(t, "aispm-report-retention-lifecycle"), lc.body)
	archive, chain := lifecycleAudit(t, lc)
	if archive["export_ref"] != "audit_export:none" || archive["object_lock"] != "requires_cavra_enterprise" ||
		archive["kms_key_ref"] != "signing_key:none" || chain != "chain:none" {
		t.Fatalf("nothing sealed yet, but the lifecycle claims %v, chain %v", archive, chain)
	}

	e.sealAudit(t, "acme")
	cp, err := e.app.Audit.LatestCheckpoint(context.Background(), "acme")
	if err != nil || cp == nil {
		t.Fatalf("no checkpoint after the seal: %v", err)
	}
	checkReadiness(t, e)
	lc = e.call("GET", exportsPath+"/retention-lifecycle", e.as("acme", auth.AuditorViewer), nil, nil)
	validateContract(t, contractSchema(t, "aispm-report-retention-lifecycle"), lc.body)
	archive, chain = lifecycleAudit(t, lc)
	if archive["export_ref"] != "worm:"+cp.Key || archive["object_lock"] != "enabled" ||
		archive["kms_key_ref"] != "signing_key:"+e.app.Signer.KeyID() || chain != "chain:"+cp.Hash {
		t.Fatalf("sealed log, but the lifecycle says %v, chain %v (checkpoint %+v)", archive, chain, cp)
	}
}

func lifecycleAudit(t *testing.T, r reply) (map[string]any, any) {
	t.Helper()
	m := r.json(t)
	return m["audit_export_lifecycle"].(map[string]any), m["evidence"].(map[string]any)["chain_ref"]
}

// sealAudit appends every pending evidence record to the tenant's log and seals it.
func (e *env) sealAudit(t *testing.T, tenant string) {
	t.Helper()
	if _, err := e.app.Audit.NewPoller(e.app.Items, "readiness", time.Second).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Audit.Seal(context.Background(), tenant, true); err != nil {
		t.Fatal(err)
	}
}
