package render

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

type builder func(a *Aggregates, m Meta) Document

// builders are the report catalog's layouts, by the public report id.
var builders = map[string]builder{
	"executive_risk_brief":        executiveBrief,
	"board_kpi_pack":              boardKPIPack,
	"soc2_audit_summary":          soc2Summary,
	"control_coverage_export":     controlCoverage,
	"evidence_freshness_export":   evidenceFreshness,
	"agent_risk_register":         agentRiskRegister,
	"pdf_board_pack":              boardPack,
	"xlsx_evidence_workbook":      evidenceWorkbook,
	"docx_audit_narrative":        auditNarrative,
	"signed_json_evidence_packet": evidencePacket,
	"siem_jsonl_export":           siemSummary,
	"grc_upload_package":          grcPackage,
}

// Supported tells whether reportID has a builder.
func Supported(reportID string) bool { _, ok := builders[reportID]; return ok }

func headline(a *Aggregates) []Fact {
	return []Fact{
		{"Events", fmt.Sprint(a.Events)},
		{"Blocked actions", fmt.Sprintf("%d (%s)", a.Blocked, pct(a.Blocked, a.Events))},
		{"Approval-required actions", fmt.Sprintf("%d (%s)", a.ApprovalRequired, pct(a.ApprovalRequired, a.Events))},
		{"Warnings", fmt.Sprintf("%d (%s)", a.Warned, pct(a.Warned, a.Events))},
		{"Allowed with attestation", fmt.Sprintf("%d (%s)", a.Attested, pct(a.Attested, a.Events))},
		{"High or critical severity", fmt.Sprintf("%d (%s)", a.HighOrCritical, pct(a.HighOrCritical, a.Events))},
		{"Agents observed", fmt.Sprint(len(a.Agents))},
		{"Connectors observed", fmt.Sprint(len(a.Connectors))},
		{"First event", ts(a.First)},
		{"Last event", ts(a.Last)},
	}
}

func trendTable(a *Aggregates) Table {
	t := Table{ID: "trend", Title: "Trend by day", Columns: append([]string{"day", "events"}, Decisions...)}
	for _, day := range sortedKeys(a.Trend) {
		c := a.Trend[day]
		total := 0
		for _, v := range c {
			total += v
		}
		row := []any{day, total}
		for _, d := range Decisions {
			row = append(row, c[d])
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// vocabularyTable lists every value of a vocabulary, zero counts included, so a reader
// sees that a decision did not occur rather than wonder whether it is counted.
func vocabularyTable(id, title, key string, vocab []string, c Counts) Table {
	t := Table{ID: id, Title: title, Columns: []string{key, "events", "share"}}
	total := 0
	for _, v := range c {
		total += v
	}
	for _, k := range vocab {
		t.Rows = append(t.Rows, []any{k, c[k], pct(c[k], total)})
	}
	for _, k := range sortedKeys(c) {
		if !slices.Contains(vocab, k) {
			t.Rows = append(t.Rows, []any{k, c[k], pct(c[k], total)})
		}
	}
	return t
}

func decisionTable(a *Aggregates) Table {
	return vocabularyTable("by_decision", "Events by decision", "decision", Decisions, a.ByDecision)
}

func severityTable(a *Aggregates) Table {
	return vocabularyTable("by_severity", "Events by severity", "severity", Severities, a.BySeverity)
}

func typeTable(a *Aggregates) Table {
	return vocabularyTable("by_event_type", "Events by type", "event_type", EventTypes, a.ByType)
}

// postureCharts are the pictures of a posture report: the trend over the window by
// decision, the decisions, the severities and the agents with the most events.
func postureCharts(a *Aggregates, m Meta) []Chart {
	return []Chart{
		trendChart(windowDays(m), a.Trend, Decisions),
		countsChart("decisions", "Events by decision", "decision", a.ByDecision, Decisions, 0),
		countsChart("severities", "Events by severity", "severity", a.BySeverity, Severities, 0),
		countsChart("top_agents", "Top agents by events", "agent", a.ByAgent, nil, 10),
	}
}

// windowDays are the window's UTC days, quiet ones included, so the trend shows a gap
// where nothing happened rather than closing it up.
func windowDays(m Meta) []string {
	from, err1 := time.Parse(time.RFC3339, m.From)
	to, err2 := time.Parse(time.RFC3339, m.To)
	if err1 != nil || err2 != nil {
		return nil
	}
	return Window{From: from, To: to}.Days()
}

func executiveBrief(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Charts: postureCharts(a, m), Tables: []Table{
		decisionTable(a), severityTable(a), typeTable(a),
		countsTable("by_environment", "Events by environment", "environment", a.ByEnvironment),
		countsTable("by_connector", "Events by connector", "connector", a.ByConnector),
		countsTable("by_agent", "Events by agent", "agent", a.ByAgent),
		countsTable("blocked_actions", "Blocked actions by action type", "action_type", a.BlockedByAction),
		countsTable("approval_required_actions", "Approval-required actions by action type", "action_type", a.ApprovalByAction),
		countsTable("by_policy_pack", "Events by policy pack", "policy_pack", a.ByPolicyPack),
		trendTable(a),
	}}
}

// agentRows ranks agents by highest severity, then risk, blocked count and name.
func agentRows(a *Aggregates) [][]any {
	names := sortedKeys(a.Agents)
	slices.SortStableFunc(names, func(x, y string) int {
		p, q := a.Agents[x], a.Agents[y]
		return cmp.Or(
			cmp.Compare(severityRank[q.MaxSeverity], severityRank[p.MaxSeverity]),
			cmp.Compare(q.MaxRisk, p.MaxRisk),
			cmp.Compare(q.Blocked, p.Blocked),
		)
	})
	rows := make([][]any, 0, len(names))
	for _, n := range names {
		s := a.Agents[n]
		avg := "n/a"
		if s.RiskN > 0 {
			avg = fmt.Sprintf("%.1f", float64(s.RiskSum)/float64(s.RiskN))
		}
		rows = append(rows, []any{n, setList(s.Connectors), setList(s.Environments), s.Events, s.Blocked, s.ApprovalRequired, s.Warned,
			s.MaxSeverity, s.MaxRisk, avg, ts(s.LastSeen)})
	}
	return rows
}

func agentTable(a *Aggregates) Table {
	return Table{ID: "agents", Title: "Agent risk register",
		Columns: []string{"agent", "connectors", "environments", "events", "blocked", "approval_required", "warned", "highest_severity",
			"max_risk_score", "avg_risk_score", "last_seen"},
		Rows: agentRows(a)}
}

func agentRiskRegister(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Tables: []Table{agentTable(a)}}
}

func controlRows(m map[string]*ControlStats) [][]any {
	var rows [][]any
	for _, id := range sortedKeys(m) {
		c := m[id]
		row := []any{id, setList(c.Packs), c.Events}
		for _, d := range Decisions {
			row = append(row, c.Decisions[d])
		}
		rows = append(rows, append(row, ts(c.LastSeen)))
	}
	return rows
}

func coverageTables(a *Aggregates) []Table {
	cols := func(key string) []string {
		return append(append([]string{key, "policy_packs", "events"}, Decisions...), "last_seen")
	}
	return []Table{
		{ID: "controls", Title: "Control coverage (control ids and risk classifications)", Columns: cols("control_id"), Rows: controlRows(a.Controls)},
		{ID: "policy_packs", Title: "Policy pack coverage", Columns: cols("policy_pack"), Rows: controlRows(a.Packs)},
	}
}

func controlCoverage(a *Aggregates, m Meta) Document {
	return Document{Headline: []Fact{
		{"Events", fmt.Sprint(a.Events)},
		{"Controls exercised", fmt.Sprint(len(a.Controls))},
		{"Policy packs exercised", fmt.Sprint(len(a.Packs))},
	}, Tables: coverageTables(a)}
}

// staleAfter is how long without evidence makes a source stale: a week, or the whole
// window when it is shorter than that.
func staleAfter(from, to time.Time) time.Duration {
	return min(7*24*time.Hour, to.Sub(from))
}

func freshnessRows(names []string, last func(string) (time.Time, int), to time.Time, stale time.Duration) ([][]any, int) {
	var rows [][]any
	staleN := 0
	for _, n := range names {
		seen, events := last(n)
		age := to.Sub(seen)
		status := "fresh"
		if age > stale {
			status = "stale"
			staleN++
		}
		rows = append(rows, []any{n, events, ts(seen), int(age.Hours()), status})
	}
	return rows, staleN
}

type freshness struct {
	facts  []Fact
	tables []Table
	// The counts behind facts, for prose.
	staleHours, connectors, staleConnectors, controls, staleControls int
}

func freshnessOf(a *Aggregates, m Meta) freshness {
	from, _ := time.Parse(time.RFC3339, m.From)
	to, _ := time.Parse(time.RFC3339, m.To)
	stale := staleAfter(from, to)
	cols := func(key string) []string { return []string{key, "events", "last_seen", "age_hours", "status"} }
	conn, staleConn := freshnessRows(sortedKeys(a.Connectors), func(k string) (time.Time, int) {
		return a.Connectors[k].LastSeen, a.Connectors[k].Events
	}, to, stale)
	ctl, staleCtl := freshnessRows(sortedKeys(a.Controls), func(k string) (time.Time, int) {
		return a.Controls[k].LastSeen, a.Controls[k].Events
	}, to, stale)
	return freshness{staleHours: int(stale.Hours()), connectors: len(a.Connectors), staleConnectors: staleConn,
		controls: len(a.Controls), staleControls: staleCtl, facts: []Fact{
			{"Stale after (hours)", fmt.Sprint(int(stale.Hours()))},
			{"Connectors", fmt.Sprint(len(a.Connectors))},
			{"Stale connectors", fmt.Sprint(staleConn)},
			{"Controls", fmt.Sprint(len(a.Controls))},
			{"Stale controls", fmt.Sprint(staleCtl)},
		}, tables: []Table{
			{ID: "connectors", Title: "Connector evidence freshness", Columns: cols("connector"), Rows: conn},
			{ID: "controls_freshness", Title: "Control evidence freshness", Columns: cols("control_id"), Rows: ctl},
		}}
}

func evidenceFreshness(a *Aggregates, m Meta) Document {
	f := freshnessOf(a, m)
	return Document{Headline: f.facts, Tables: f.tables}
}

func topAgents(a *Aggregates, n int) Table {
	top := agentTable(a)
	top.ID, top.Title = "top_risks", "Top agent risks"
	if len(top.Rows) > n {
		top.Rows = top.Rows[:n]
	}
	return top
}

func boardPack(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Charts: postureCharts(a, m), Tables: []Table{
		decisionTable(a), severityTable(a), trendTable(a), topAgents(a, 10),
	}}
}

// kpi is one board KPI: a ratio of events (0-1) or a count.
type kpi struct {
	id, label, unit string
	value           float64
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func kpis(a *Aggregates) []kpi {
	days := max(len(a.Trend), 1)
	return []kpi{
		{"events", "Events", "count", float64(a.Events)},
		{"events_per_active_day", "Events per active day", "count", float64(a.Events) / float64(days)},
		{"block_rate", "Blocked share", "ratio", ratio(a.Blocked, a.Events)},
		{"approval_required_rate", "Approval-required share", "ratio", ratio(a.ApprovalRequired, a.Events)},
		{"warn_rate", "Warning share", "ratio", ratio(a.Warned, a.Events)},
		{"attested_allow_rate", "Allowed-with-attestation share", "ratio", ratio(a.Attested, a.Events)},
		{"high_or_critical_rate", "High or critical share", "ratio", ratio(a.HighOrCritical, a.Events)},
		{"production_share", "Production share", "ratio", ratio(a.ByEnvironment["production"], a.Events)},
		{"agents_observed", "Agents observed", "count", float64(len(a.Agents))},
		{"connectors_observed", "Connectors observed", "count", float64(len(a.Connectors))},
		{"policy_packs_exercised", "Policy packs exercised", "count", float64(len(a.Packs))},
	}
}

func kpiTable(a *Aggregates) Table {
	t := Table{ID: "kpis", Title: "Key performance indicators", Columns: []string{"kpi", "label", "value", "unit"}}
	for _, k := range kpis(a) {
		t.Rows = append(t.Rows, []any{k.id, k.label, fmt.Sprintf("%.4f", k.value), k.unit})
	}
	return t
}

func boardKPIPack(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Charts: postureCharts(a, m)[:1],
		Tables: []Table{kpiTable(a), decisionTable(a), severityTable(a), trendTable(a)}}
}

// soc2Criteria maps event types to the SOC 2 common criteria whose operation they evidence.
var soc2Criteria = []struct {
	id, title string
	types     []string
}{
	{"CC5", "Control activities (approvals and attestations)", []string{"approval_event"}},
	{"CC6", "Logical access (agent actions on files, shells, tools and MCP servers)", []string{"tool_call", "file_action", "shell_command", "mcp_activity"}},
	{"CC7", "System operations (policy decisions, evidence, model interactions)", []string{"policy_decision", "evidence_event", "prompt", "model_response", "reasoning_trace"}},
	{"CC8", "Change management (git, CI and infrastructure changes)", []string{"git_operation", "ci_runner_event", "cloud_iac_event"}},
}

func soc2Table(a *Aggregates) (Table, int) {
	t := Table{ID: "criteria", Title: "SOC 2 common criteria evidenced by agent activity",
		Columns: []string{"criterion", "title", "event_types", "events", "blocked", "approval_required", "allowed_with_attestation"}}
	covered := 0
	for _, c := range soc2Criteria {
		events := 0
		for _, ty := range c.types {
			events += a.ByType[ty]
		}
		if events > 0 {
			covered++
		}
		blocked, approval, attested := a.typeDecisions(c.types)
		t.Rows = append(t.Rows, []any{c.id, c.title, joinList(c.types), events, blocked, approval, attested})
	}
	return t, covered
}

func soc2Summary(a *Aggregates, m Meta) Document {
	criteria, covered := soc2Table(a)
	return Document{Headline: append([]Fact{
		{"Evidence period", m.From + " to " + m.To},
		{"Criteria with evidence", fmt.Sprintf("%d of %d", covered, len(soc2Criteria))},
	}, headline(a)...), Tables: []Table{
		criteria, decisionTable(a), typeTable(a),
		countsTable("exceptions", "Blocked actions by action type (exceptions to review)", "action_type", a.BlockedByAction),
		countsTable("approvals", "Approval-required actions by action type", "action_type", a.ApprovalByAction),
	}}
}

func evidenceWorkbook(a *Aggregates, m Meta) Document {
	f := freshnessOf(a, m)
	tables := []Table{decisionTable(a), severityTable(a), typeTable(a), trendTable(a), agentTable(a)}
	tables = append(tables, coverageTables(a)...)
	return Document{Headline: append(headline(a), f.facts...), Charts: postureCharts(a, m), Tables: append(tables, f.tables...)}
}

// auditNarrative's paragraphs say in words what its tables hold.
func auditNarrative(a *Aggregates, m Meta) Document {
	criteria, covered := soc2Table(a)
	f := freshnessOf(a, m)
	return Document{Headline: headline(a), Charts: postureCharts(a, m), Narrative: narrative(a, m, covered, f),
		Tables: append([]Table{criteria, decisionTable(a), severityTable(a), topAgents(a, 10)}, f.tables...)}
}

// narrative describes the evidence period from the aggregates: volume, outcomes, the SOC 2
// criteria evidenced, the stalest sources and the riskiest agent.
func narrative(a *Aggregates, m Meta, covered int, f freshness) []string {
	out := []string{
		fmt.Sprintf("From %s to %s, %d agent events were recorded from %d agents over %d connectors.",
			m.From, m.To, a.Events, len(a.Agents), len(a.Connectors)),
		fmt.Sprintf("%d actions (%s) were blocked and %d (%s) required approval; %d (%s) were allowed with an attestation and %d (%s) raised a warning.",
			a.Blocked, pct(a.Blocked, a.Events), a.ApprovalRequired, pct(a.ApprovalRequired, a.Events),
			a.Attested, pct(a.Attested, a.Events), a.Warned, pct(a.Warned, a.Events)),
		fmt.Sprintf("The activity evidences %d of the %d SOC 2 common criteria mapped here (CC5 to CC8).", covered, len(soc2Criteria)),
		fmt.Sprintf("%d of %d connectors and %d of %d controls produced no evidence in the last %d hours of the window.",
			f.staleConnectors, f.connectors, f.staleControls, f.controls, f.staleHours),
	}
	if rows := agentRows(a); len(rows) > 0 {
		r := rows[0]
		out = append(out, fmt.Sprintf("The agent with the highest severity is %s: highest severity %s, %d blocked and %d approval-required actions out of %d events.",
			r[0], r[7], r[4], r[5], r[3]))
	}
	return out
}

func evidencePacket(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Tables: append([]Table{decisionTable(a), severityTable(a), typeTable(a), trendTable(a), agentTable(a)},
		coverageTables(a)...)}
}

// siemSummary heads the SIEM export; its lines are the window's events themselves.
func siemSummary(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Tables: []Table{decisionTable(a), severityTable(a), typeTable(a)}}
}

func grcPackage(a *Aggregates, m Meta) Document {
	f := freshnessOf(a, m)
	tables := append(coverageTables(a), f.tables...)
	return Document{Headline: headline(a), Tables: append(tables, agentTable(a), decisionTable(a))}
}

// typeDecisions counts blocked, approval-required and attested events of the given types.
func (a *Aggregates) typeDecisions(types []string) (blocked, approval, attested int) {
	for _, ty := range types {
		c := a.TypeDecisions[ty]
		blocked += c[Block]
		approval += c[RequireApproval]
		attested += c[AllowWithAttestation]
	}
	return
}
