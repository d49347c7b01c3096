package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// isolationBodies are the bodies that would succeed for the owner, so a refusal to another
// tenant comes from the tenant check and not from validation.
var isolationBodies = map[string]string{
	"post-legal-hold":         `{"case_ref":"case:isolation"}`,
	"post-legal-hold-release": `{"case_ref":"case:isolation"}`,
	"patch-schedule":          `{"name":"isolation"}`,
}

// TestNoRouteReachesAnotherTenantsResource walks the route table: every route naming a
// tenant's resource in its path, called by another tenant with each role it allows and the
// owner's real ref, must answer exactly as for a ref that does not exist (404, same code and
// field: no existence oracle) and change nothing in either tenant. A new path parameter fails
// here until it gets a ref below.
func TestNoRouteReachesAnotherTenantsResource(t *testing.T) {
	e, owner := ownedResources(t)
	notTenantResources := map[string]bool{"contract": true}

	before := map[string]int{"acme": e.evidenceCount("acme"), "globex": e.evidenceCount("globex")}
	checked := 0
	for _, rt := range api.Routes() {
		for _, param := range pathParams(rt.Path) {
			if notTenantResources[param] {
				continue
			}
			real, ok := owner[param]
			if !ok {
				t.Fatalf("route %s: no owner ref for path parameter {%s}; add one to this test", rt.Name, param)
			}
			for _, role := range rt.Roles {
				foreign := e.call(rt.Method, fill(rt.Path, param, real), e.as("globex", role), body(rt.Name), nil)
				unknown := e.call(rt.Method, fill(rt.Path, param, unknownLike(real)), e.as("globex", role), body(rt.Name), nil)
				if foreign.status != 404 || foreign.status != unknown.status || errorOf(t, foreign) != errorOf(t, unknown) {
					t.Errorf("%s as globex/%s: foreign ref %d %s, unknown ref %d %s; want the same 404",
						rt.Name, role, foreign.status, foreign.body, unknown.status, unknown.body)
				}
				checked++
			}
		}
	}
	// The refs are real: the owner finds each of them (a proof may still be pending: 409).
	for _, rt := range api.Routes() {
		if params := pathParams(rt.Path); rt.Method == "GET" && len(params) == 1 && owner[params[0]] != "" {
			if r := e.call("GET", fill(rt.Path, params[0], owner[params[0]]), e.as("acme", rt.Roles[0]), nil, nil); r.status == 404 || r.status >= 500 {
				t.Errorf("%s as the owner: %d %s", rt.Name, r.status, r.body)
			}
		}
	}
	for tenant, n := range before {
		if got := e.evidenceCount(tenant); got != n {
			t.Errorf("%s: %d evidence records after the foreign calls, %d before", tenant, got, n)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d foreign calls checked", checked)
	}
	t.Logf("%d foreign calls over the route table, all answered as unknown", checked)
}

// ownedResources is an environment where acme owns one real resource for every tenant
// resource a route names in its path, keyed by the path parameter.
func ownedResources(t *testing.T) (*env, map[string]string) {
	t.Helper()
	e, art := deliveryEnv(t)
	owner := map[string]string{"artifact": art}
	owner["package"] = e.packageOf(t, art)
	owner["distribution_ref"] = decodeDelivery(t, e.send(t, "key-isolation-1",
		map[string]any{"artifact_ref": art, "channel": "portal", "recipients": []string{"auditor@partner.example"}})).DistributionRef
	owner["evidence_ref"] = e.evidenceRecords(t, "acme")[0].Ref
	owner["contract"] = "delivery-audit-event"
	owner["schedule"] = e.createSchedule(t, scheduleBody(nil)).ScheduleRef
	owner["token"] = issuedToken(t, e.call("POST", tokensPath, e.as("acme", auth.TenantAdmin), []byte(`{"role":"auditor_viewer"}`), nil)).TokenRef
	return e, owner
}

func (e *env) packageOf(t *testing.T, art string) string {
	t.Helper()
	r := e.call("POST", packagesPath, e.as("acme", auth.TenantAdmin),
		mustJSON(t, map[string]any{"package_type": "board_and_audit_bundle", "artifact_refs": []string{art}}), nil)
	var out struct {
		PackageRef string `json:"package_ref"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.PackageRef == "" {
		t.Fatalf("package: %d %s", r.status, r.body)
	}
	return out.PackageRef
}

func pathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			out = append(out, strings.TrimSuffix(name, "}"))
		}
	}
	return out
}

func fill(path, param, value string) string { return strings.Replace(path, "{"+param+"}", value, 1) }

// unknownLike is a ref of the same shape as ref that names nothing: its last character changed.
func unknownLike(ref string) string {
	last := ref[len(ref)-1]
	repl := byte('a')
	if last == 'a' {
		repl = 'b'
	}
	return ref[:len(ref)-1] + string(repl)
}

func body(route string) []byte {
	if b, ok := isolationBodies[route]; ok {
		return []byte(b)
	}
	return nil
}

func errorOf(t *testing.T, r reply) string {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil {
		return "unparsable: " + string(r.body)
	}
	return eb.Error.Code + "/" + eb.Error.Field
}
