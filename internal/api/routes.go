package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// Route is one entry of the route table. Name is the Lambda function's name (functions/<Name>)
// and the key of its handler in Handlers.
type Route struct {
	Name    string
	Method  string
	Path    string
	Roles   []auth.Role
	MaxBody int64
	// Accepts lists the request media types besides application/json (the default); the
	// ingest route also takes application/x-ndjson, one envelope a line, as collectors stream.
	Accepts []string
	// Query lists the query parameters the route takes, each at most once; any other is
	// refused, so a misspelt filter is an error instead of a silently wider answer.
	Query []string
}

// MediaJSON and MediaNDJSON are the request media types routes accept.
const (
	MediaJSON   = "application/json"
	MediaNDJSON = "application/x-ndjson"
)

const (
	defaultMaxBody = 256 << 10
	ingestMaxBody  = 4 << 20
)

var (
	allRoles     = auth.Roles
	adminOnly    = []auth.Role{auth.TenantAdmin}
	settingsRead = []auth.Role{auth.TenantAdmin, auth.ReportOperator, auth.SecurityLeadership}
	ingestRoles  = []auth.Role{auth.TenantAdmin, auth.ReportOperator}
	exportRoles  = []auth.Role{auth.TenantAdmin, auth.SecurityLeadership, auth.AuditorViewer}
	// renderRoles produce artifacts; holdRoles place and lift legal holds; deleting an
	// expired artifact is the tenant admin's alone.
	renderRoles    = []auth.Role{auth.TenantAdmin, auth.ReportOperator}
	holdRoles      = []auth.Role{auth.TenantAdmin, auth.SecurityLeadership}
	readinessRoles = []auth.Role{auth.TenantAdmin, auth.SecurityLeadership, auth.AuditorViewer}
	packageRead    = []auth.Role{auth.TenantAdmin, auth.ReportOperator, auth.SecurityLeadership, auth.AuditorViewer}
	// policyRead see the recipient policy; sendRoles send; approvalRoles decide on gated
	// sends (never the request's own requester, which the domain checks by token).
	policyRead    = []auth.Role{auth.TenantAdmin, auth.ReportOperator, auth.Approver, auth.SecurityLeadership}
	sendRoles     = []auth.Role{auth.TenantAdmin, auth.ReportOperator}
	approvalRoles = []auth.Role{auth.Approver, auth.SecurityLeadership}
	// scheduleRead see schedules, recipients included.
	scheduleRead = []auth.Role{auth.TenantAdmin, auth.ReportOperator, auth.SecurityLeadership}
	// proofRoles may read inclusion proofs: the roles that answer to auditors.
	proofRoles = []auth.Role{auth.AuditorViewer, auth.SecurityLeadership, auth.TenantAdmin}
)

const reports = "/enterprise/aispm/reports"

// Routes is the route table: the single source of every endpoint and the roles (RBAC)
// allowed to call it.
func Routes() []Route {
	return []Route{
		{Name: "get-catalog", Method: "GET", Path: "/enterprise/aispm/reports/catalog", Roles: allRoles},
		{Name: "get-openapi", Method: "GET", Path: "/enterprise/aispm/openapi.json", Roles: allRoles},
		{Name: "get-settings", Method: "GET", Path: "/enterprise/aispm/reports/settings", Roles: settingsRead},
		{Name: "put-settings", Method: "PUT", Path: "/enterprise/aispm/reports/settings", Roles: adminOnly},
		{Name: "post-ingest", Method: "POST", Path: "/enterprise/aispm/ingest", Roles: ingestRoles, MaxBody: ingestMaxBody, Accepts: []string{MediaNDJSON}},
		{Name: "get-export", Method: "GET", Path: "/enterprise/aispm/reports/exports/{contract}", Roles: exportRoles, Query: []string{"package", "schedule"}},
		{Name: "get-exports", Method: "GET", Path: reports + "/exports", Roles: exportRoles},
		{Name: "get-evidence-proof", Method: "GET", Path: "/enterprise/aispm/reports/evidence/{evidence_ref}/proof", Roles: proofRoles},
		{Name: "post-render", Method: "POST", Path: reports + "/render", Roles: renderRoles},
		{Name: "post-search", Method: "POST", Path: reports + "/search", Roles: allRoles},
		{Name: "get-artifact", Method: "GET", Path: reports + "/artifacts/{artifact}", Roles: allRoles},
		{Name: "post-retrieval", Method: "POST", Path: reports + "/artifacts/{artifact}/retrieval", Roles: allRoles},
		{Name: "post-legal-hold", Method: "POST", Path: reports + "/artifacts/{artifact}/legal-hold", Roles: holdRoles},
		{Name: "post-legal-hold-release", Method: "POST", Path: reports + "/artifacts/{artifact}/legal-hold/release", Roles: holdRoles},
		{Name: "delete-artifact", Method: "DELETE", Path: reports + "/artifacts/{artifact}", Roles: adminOnly},
		{Name: "post-deletion-readiness", Method: "POST", Path: reports + "/retention/deletion-readiness", Roles: readinessRoles},
		{Name: "post-package", Method: "POST", Path: reports + "/packages", Roles: renderRoles},
		{Name: "get-package", Method: "GET", Path: reports + "/packages/{package}", Roles: packageRead},
		{Name: "get-recipient-policy", Method: "GET", Path: reports + "/recipient-policy", Roles: policyRead},
		{Name: "put-recipient-policy", Method: "PUT", Path: reports + "/recipient-policy", Roles: adminOnly},
		{Name: "post-send", Method: "POST", Path: reports + "/send", Roles: sendRoles},
		{Name: "post-distribution-approve", Method: "POST", Path: reports + "/distributions/{distribution_ref}/approve", Roles: approvalRoles},
		{Name: "post-distribution-deny", Method: "POST", Path: reports + "/distributions/{distribution_ref}/deny", Roles: approvalRoles},
		{Name: "get-deliveries", Method: "GET", Path: reports + "/deliveries", Roles: allRoles,
			Query: []string{"status", "channel", "report_id", "from", "to", "limit", "cursor"}}, // delivery.ParseFilter
		// Report schedules: the roles that render manage them; readers see recipients too.
		{Name: "post-schedule", Method: "POST", Path: reports + "/schedules", Roles: renderRoles},
		{Name: "get-schedules", Method: "GET", Path: reports + "/schedules", Roles: scheduleRead, Query: []string{"status", "cursor", "limit"}},
		{Name: "get-schedule", Method: "GET", Path: reports + "/schedules/{schedule}", Roles: scheduleRead},
		{Name: "patch-schedule", Method: "PATCH", Path: reports + "/schedules/{schedule}", Roles: renderRoles},
		{Name: "post-schedule-pause", Method: "POST", Path: reports + "/schedules/{schedule}/pause", Roles: renderRoles},
		{Name: "post-schedule-resume", Method: "POST", Path: reports + "/schedules/{schedule}/resume", Roles: renderRoles},
		{Name: "delete-schedule", Method: "DELETE", Path: reports + "/schedules/{schedule}", Roles: renderRoles},
		{Name: "post-schedule-approve", Method: "POST", Path: reports + "/schedules/{schedule}/approve", Roles: approvalRoles},
		{Name: "post-schedule-deny", Method: "POST", Path: reports + "/schedules/{schedule}/deny", Roles: approvalRoles},
		{Name: "get-schedule-runs", Method: "GET", Path: reports + "/schedules/{schedule}/runs", Roles: scheduleRead, Query: []string{"cursor", "limit"}},
		// API tokens of the caller's own tenant: the tenant admin's alone.
		{Name: "get-tokens", Method: "GET", Path: reports + "/tokens", Roles: adminOnly},
		{Name: "post-token", Method: "POST", Path: reports + "/tokens", Roles: adminOnly},
		{Name: "post-token-revoke", Method: "POST", Path: reports + "/tokens/{token}/revoke", Roles: adminOnly},
		{Name: "post-token-rotate", Method: "POST", Path: reports + "/tokens/{token}/rotate", Roles: adminOnly},
	}
}

// FindRoute returns the route with the given Lambda name.
func FindRoute(name string) (Route, bool) {
	for _, r := range Routes() {
		if r.Name == name {
			return r, true
		}
	}
	return Route{}, false
}

// Allows tells whether role may call the route.
func (r Route) Allows(role auth.Role) bool { return slices.Contains(r.Roles, role) }

// MediaTypes lists every request media type the route takes, application/json first.
func (r Route) MediaTypes() []string { return append([]string{MediaJSON}, r.Accepts...) }

// TakesBody tells whether the route reads a request body; GET and DELETE take none, and a
// body sent to them is refused rather than ignored.
func (r Route) TakesBody() bool { return r.Method != http.MethodGet && r.Method != http.MethodDelete }

// BodyLimit is the largest request body the route takes, in bytes.
func (r Route) BodyLimit() int64 {
	if r.MaxBody > 0 {
		return r.MaxBody
	}
	return defaultMaxBody
}

// match reports whether path fits the route's pattern and returns its {params}.
func (r Route) match(path string) (map[string]string, bool) {
	want := strings.Split(strings.Trim(r.Path, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	if len(want) != len(got) {
		return nil, false
	}
	params := map[string]string{}
	for i, w := range want {
		if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") {
			// A dot segment names no resource; taking it as an id would let a path like
			// .../artifacts/.. reach code that joins ids into keys.
			if got[i] == "" || got[i] == "." || got[i] == ".." {
				return nil, false
			}
			params[w[1:len(w)-1]] = got[i]
			continue
		}
		if w != got[i] {
			return nil, false
		}
	}
	return params, true
}
