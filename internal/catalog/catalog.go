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

// all is the public report catalog: the twelve reports CAVRA clients ask for by id, each
// offered in its public format (listed first) and the others it renders well in.
var all = []Report{
	{ReportID: "executive_risk_brief", Title: "Executive AI Risk Brief",
		Formats: []string{"markdown", "html", "pdf", "json", "csv", "xlsx", "docx", "zip"}, Audiences: []string{"security_leadership", "board"},
		Availability: Community,
		Description:  "Posture headline, decisions, severities, event types, environments, connectors, agents, blocked and approval-required actions, trend, with charts."},
	{ReportID: "board_kpi_pack", Title: "Board KPI Pack",
		Formats: []string{"json", "csv", "markdown", "html"}, Audiences: []string{"board", "security_leadership"},
		Availability: Community,
		Description:  "Board KPIs as ratios of events (blocked, approval-required, warning, attested, high or critical, production share) and counts, with the daily trend."},
	{ReportID: "soc2_audit_summary", Title: "SOC 2 Audit Summary",
		Formats: []string{"markdown", "html", "json"}, Audiences: []string{"auditor", "grc"},
		Availability: Community,
		Description:  "Agent activity as evidence of SOC 2 common criteria CC5-CC8, with decisions, exceptions to review and approvals."},
	{ReportID: "control_coverage_export", Title: "Control and Policy Coverage Export",
		Formats: []string{"csv", "json", "jsonl", "xlsx"}, Audiences: []string{"grc", "auditor"},
		Availability: Community,
		Description:  "Policy packs and controls (control ids, risk classifications) exercised by agent activity, with decision counts per control."},
	{ReportID: "evidence_freshness_export", Title: "Evidence Freshness Export",
		Formats: []string{"csv", "json", "jsonl"}, Audiences: []string{"grc", "auditor"},
		Availability: Community,
		Description:  "When each connector and control last produced evidence, and which are stale against the window."},
	{ReportID: "agent_risk_register", Title: "Agent Risk Register",
		Formats: []string{"csv", "json", "jsonl", "xlsx", "pdf"}, Audiences: []string{"security_engineering", "risk_management"},
		Availability: Community,
		Description:  "Every observed agent with its connectors, environments, blocked, approval-required and warned actions, highest severity and risk score."},
	{ReportID: "pdf_board_pack", Title: "Board AI Risk Pack",
		Formats: []string{"pdf", "html", "markdown", "zip"}, Audiences: []string{"board", "security_leadership"},
		Availability: RequiresEnterprise,
		Description:  "A short pack for the board: posture headline, charts of the trend, decisions, severities and top agents, and the top risks."},
	{ReportID: "xlsx_evidence_workbook", Title: "Evidence Workbook",
		Formats: []string{"xlsx"}, Audiences: []string{"auditor", "grc"},
		Availability: RequiresEnterprise,
		Description:  "One workbook with every evidence table (decisions, severities, types, trend, agents, coverage, freshness) and native charts."},
	{ReportID: "docx_audit_narrative", Title: "Audit Narrative",
		Formats: []string{"docx", "pdf", "markdown"}, Audiences: []string{"auditor", "security_leadership"},
		Availability: RequiresEnterprise,
		Description:  "A Word narrative of the evidence period: SOC 2 criteria evidenced, decisions, severities, top agents and evidence freshness."},
	{ReportID: "signed_json_evidence_packet", Title: "Signed JSON Evidence Packet",
		Formats: []string{"json"}, Audiences: []string{"auditor", "grc"},
		Availability: RequiresEnterprise,
		Description:  "The window's aggregates and the digests of every segment they were computed from, signed with the tenant's signing key; verify offline with aispm-reports verify packet."},
	{ReportID: "siem_jsonl_export", Title: "SIEM JSONL Export",
		Formats: []string{"jsonl"}, Audiences: []string{"security_operations"},
		Availability: RequiresEnterprise,
		Description:  "One self-describing event a line for SIEM ingestion (aispm.siem_event.v1, field mapping in docs/siem.md)."},
	{ReportID: "grc_upload_package", Title: "GRC Upload Package",
		Formats: []string{"zip"}, Audiences: []string{"grc", "auditor"},
		Availability: RequiresEnterprise,
		Description:  "A zip of the coverage, freshness and agent register files with a signed manifest of their digests; verify offline with aispm-reports verify packet."},
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
