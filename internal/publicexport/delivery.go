package publicexport

import (
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/catalog"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// DeliveryContract is the aispm-report-delivery-contract packet.
type DeliveryContract struct {
	SchemaVersion        string            `json:"schema_version"`
	Product              string            `json:"product"`
	Edition              string            `json:"edition"`
	ContractVisibility   string            `json:"contract_visibility"`
	CommunityReports     []contractReport  `json:"community_reports"`
	EnterpriseReports    []contractReport  `json:"enterprise_reports"`
	API                  map[string]string `json:"api"`
	Delivery             deliveryModes     `json:"delivery"`
	Setup                deliverySetup     `json:"setup"`
	SecurityControls     []string          `json:"security_controls"`
	EnterpriseBoundaries map[string]string `json:"enterprise_boundaries"`
}

type contractReport struct {
	ReportID     string   `json:"report_id"`
	Title        string   `json:"title"`
	Formats      []string `json:"formats"`
	Audiences    []string `json:"audiences"`
	Availability string   `json:"availability"`
}

// contractEndpoints are the endpoints the delivery contract names, by their key in the
// packet's api object; the schema fixes each value, so the packet is refused until the
// deployment serves every one of them.
var contractEndpoints = []struct{ key, endpoint string }{
	{"catalog_endpoint", "GET /enterprise/aispm/reports/catalog"},
	{"render_endpoint", "POST /enterprise/aispm/reports/render"},
	{"send_endpoint", "POST /enterprise/aispm/reports/send"},
	{"deliveries_endpoint", "GET /enterprise/aispm/reports/deliveries"},
	{"schedules_endpoint", "POST /enterprise/aispm/reports/schedules"},
}

// deliveryEndpoints is the packet's api object, or a condition for each endpoint it would
// name that the deployment does not serve.
func deliveryEndpoints(served []string) (map[string]string, []Condition) {
	api := map[string]string{"implementation": requiresEnterprise}
	var unmet []Condition
	for _, e := range contractEndpoints {
		if !slices.Contains(served, e.endpoint) {
			name := strings.TrimSuffix(e.key, "_endpoint")
			unmet = append(unmet, Condition{e.key + "_not_served", "the " + name + " endpoint " + e.endpoint + " is not served yet"})
		}
		api[e.key] = e.endpoint
	}
	return api, unmet
}

type deliveryModes struct {
	SupportedModes    []string `json:"supported_modes"`
	RecipientControls []string `json:"recipient_controls"`
	Implementation    string   `json:"implementation"`
}

type deliverySetup struct {
	RequiredSettings        []string `json:"required_settings"`
	SecretReferenceSettings []string `json:"secret_reference_settings"`
	SecretValuesAllowed     bool     `json:"secret_values_allowed_in_public_repo"`
}

// RecipientControls lists the recipient controls the product enforces today. Only controls
// with working enforcement belong here: RBAC on every route, the recipient policy's domain
// rules at send and again at delivery, the approval gate before a gated send, and the
// delivery audit (evidence of every request, attempt, decision and outcome).
var RecipientControls = []string{"domain_allowlist", "rbac", "approval_gate", "delivery_audit"}

// SecurityControls names controls implemented and tested in this build.
var SecurityControls = []string{
	"api_tokens_stored_as_sha256_hashes",
	"tenant_taken_only_from_authenticated_context",
	"route_table_rbac",
	"secret_values_refused_in_settings",
	"evidence_written_in_same_transaction_as_change",
	"redaction_scanner_on_evidence_and_exports",
	"worm_object_lock_for_ingested_segments",
}

// deliveryContract exports the tenant's catalog and setup as the public delivery contract;
// required settings follow the tenant's chosen delivery mode.
func deliveryContract(s State) (any, []Condition, error) {
	api, unmet := deliveryEndpoints(s.Served)
	if len(unmet) > 0 {
		return nil, unmet, nil
	}
	var community, enterprise []contractReport
	for _, r := range catalog.ForTenant(s.Tenant) {
		cr := contractReport{ReportID: r.ReportID, Title: r.Title, Formats: r.Formats, Audiences: r.Audiences, Availability: r.Availability}
		if r.Availability == catalog.Community {
			community = append(community, cr)
		} else {
			enterprise = append(enterprise, cr)
		}
	}
	required, refs := []string{}, []string{}
	for _, f := range settings.Fields {
		if f.RequiredFor(s.Settings) {
			required = append(required, f.Name)
		}
		if f.SecretRef {
			refs = append(refs, f.Name)
		}
	}
	return DeliveryContract{
		SchemaVersion: "cavra.aispm.report_delivery_contract.v1", Product: product, Edition: editionEnterprise,
		ContractVisibility: publicContract, CommunityReports: community, EnterpriseReports: enterprise, API: api,
		Delivery:         deliveryModes{SupportedModes: settings.DeliveryModes, RecipientControls: RecipientControls, Implementation: requiresEnterprise},
		Setup:            deliverySetup{RequiredSettings: required, SecretReferenceSettings: refs, SecretValuesAllowed: false},
		SecurityControls: SecurityControls,
		EnterpriseBoundaries: map[string]string{
			"renderer": requiresEnterprise, "scheduler": requiresEnterprise, "email_delivery": requiresEnterprise,
			"tenant_persistence": requiresEnterprise, "license_enforcement": requiresEnterprise,
		},
	}, nil, nil
}
