// Package catalog lists the reports the Report Center renders, as each tenant sees them.
package catalog

import "github.com/cavra-enterprise/aispm-reports/internal/tenancy"

// Availability values of the public contract.
const (
	Community          = "community"
	RequiresEnterprise = "requires_cavra_enterprise"
)

// Report is one catalog entry.
type Report struct {
	ReportID     string   `json:"report_id"`
	Title        string   `json:"title"`
	Formats      []string `json:"formats"`
	Audiences    []string `json:"audiences"`
	Availability string   `json:"availability"`
	Description  string   `json:"description"`
	// Renderable tells this tenant whether its edition lets it render the report.
	Renderable bool `json:"renderable"`
}

var all = []Report{
	{ReportID: "aispm_posture_summary", Title: "AISPM Posture Summary",
		Formats: []string{"markdown", "json", "csv"}, Audiences: []string{"security_engineering", "platform_owner"},
		Availability: Community,
		Description:  "Counts of agent events by decision and severity over a window, for one team's own review."},
	{ReportID: "executive_posture_brief", Title: "Executive AI Posture Brief",
		Formats: []string{"markdown", "json", "csv", "html", "pdf", "xlsx", "zip"}, Audiences: []string{"security_leadership", "board"},
		Availability: RequiresEnterprise,
		Description:  "Events by decision, severity, connector and agent; blocked and approval-required actions; policy packs; trend over the window."},
	{ReportID: "agent_risk_register", Title: "Agent Risk Register",
		Formats: []string{"json", "csv", "jsonl", "xlsx", "pdf"}, Audiences: []string{"security_engineering", "risk_management"},
		Availability: RequiresEnterprise,
		Description:  "Every observed agent with its connectors, blocked and approval-required actions, highest severity and risk score."},
	{ReportID: "control_coverage_export", Title: "Control and Policy Coverage Export",
		Formats: []string{"json", "csv", "jsonl", "xlsx"}, Audiences: []string{"grc", "auditor"},
		Availability: RequiresEnterprise,
		Description:  "Policy packs and control ids exercised by agent activity, with decision counts per control, for GRC tooling."},
	{ReportID: "evidence_freshness_export", Title: "Evidence Freshness Export",
		Formats: []string{"json", "csv", "jsonl"}, Audiences: []string{"grc", "auditor"},
		Availability: RequiresEnterprise,
		Description:  "When each connector and control last produced evidence, and which are stale against the window."},
	{ReportID: "board_pack", Title: "Board AI Risk Pack",
		Formats: []string{"pdf", "html", "markdown", "zip"}, Audiences: []string{"board", "security_leadership"},
		Availability: RequiresEnterprise,
		Description:  "A short package for the board: posture headline, trend, top risks and open governance items."},
}

// ForTenant returns the catalog as tenant t sees it: every report is listed, and Renderable
// says whether t's edition may render it.
func ForTenant(t tenancy.Tenant) []Report {
	out := make([]Report, len(all))
	for i, r := range all {
		r.Formats = append([]string(nil), r.Formats...)
		r.Audiences = append([]string(nil), r.Audiences...)
		r.Renderable = r.Availability == Community || t.Edition != tenancy.Community
		out[i] = r
	}
	return out
}

// Find returns a report by id.
func Find(id string) (Report, bool) {
	for _, r := range all {
		if r.ReportID == id {
			return r, true
		}
	}
	return Report{}, false
}
