package render

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

type builder func(a *Aggregates, m Meta) Document

var builders = map[string]builder{
	"aispm_posture_summary":     postureSummary,
	"executive_posture_brief":   executiveBrief,
	"agent_risk_register":       agentRiskRegister,
	"control_coverage_export":   controlCoverage,
	"evidence_freshness_export": evidenceFreshness,
	"board_pack":                boardPack,
}

// Supported tells whether reportID has a builder.
func Supported(reportID string) bool { _, ok := builders[reportID]; return ok }

var decisions = []string{"allowed", "blocked", "approval_required", "approved", "denied", "observed"}

func headline(a *Aggregates) []Fact {
	return []Fact{
		{"Events", fmt.Sprint(a.Events)},
		{"Blocked or denied actions", fmt.Sprintf("%d (%s)", a.Blocked, pct(a.Blocked, a.Events))},
		{"Approval-required actions", fmt.Sprintf("%d (%s)", a.ApprovalRequired, pct(a.ApprovalRequired, a.Events))},
		{"Agents observed", fmt.Sprint(len(a.Agents))},
		{"Connectors observed", fmt.Sprint(len(a.Connectors))},
		{"First event", ts(a.First)},
		{"Last event", ts(a.Last)},
	}
}

func trendTable(a *Aggregates) Table {
	t := Table{ID: "trend", Title: "Trend by day", Columns: append([]string{"day", "events"}, decisions...)}
	for _, day := range sortedKeys(a.Trend) {
		c := a.Trend[day]
		total := 0
		for _, v := range c {
			total += v
		}
		row := []any{day, total}
		for _, d := range decisions {
			row = append(row, c[d])
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func postureSummary(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Tables: []Table{
		countsTable("by_decision", "Events by decision", "decision", a.ByDecision),
		countsTable("by_severity", "Events by severity", "severity", a.BySeverity),
	}}
}

func executiveBrief(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Tables: []Table{
		countsTable("by_decision", "Events by decision", "decision", a.ByDecision),
		countsTable("by_severity", "Events by severity", "severity", a.BySeverity),
		countsTable("by_connector", "Events by connector", "connector", a.ByConnector),
		countsTable("by_agent", "Events by agent", "agent", a.ByAgent),
		countsTable("blocked_actions", "Blocked or denied actions by category", "action_category", a.BlockedByAction),
		countsTable("approval_required_actions", "Approval-required actions by category", "action_category", a.ApprovalByAction),
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
		rows = append(rows, []any{n, setList(s.Connectors), s.Events, s.Blocked, s.ApprovalRequired, s.MaxSeverity, s.MaxRisk, avg, ts(s.LastSeen)})
	}
	return rows
}

func agentTable(a *Aggregates) Table {
	return Table{ID: "agents", Title: "Agent risk register",
		Columns: []string{"agent", "connectors", "events", "blocked", "approval_required", "highest_severity", "max_risk_score", "avg_risk_score", "last_seen"},
		Rows:    agentRows(a)}
}

func agentRiskRegister(a *Aggregates, m Meta) Document {
	return Document{Headline: headline(a), Tables: []Table{agentTable(a)}}
}

func controlRows(m map[string]*ControlStats) [][]any {
	var rows [][]any
	for _, id := range sortedKeys(m) {
		c := m[id]
		row := []any{id, setList(c.Packs), c.Events}
		for _, d := range decisions {
			row = append(row, c.Decisions[d])
		}
		rows = append(rows, append(row, ts(c.LastSeen)))
	}
	return rows
}

func controlCoverage(a *Aggregates, m Meta) Document {
	cols := func(key string) []string {
		return append(append([]string{key, "policy_packs", "events"}, decisions...), "last_seen")
	}
	return Document{Headline: []Fact{
		{"Events", fmt.Sprint(a.Events)},
		{"Controls exercised", fmt.Sprint(len(a.Controls))},
		{"Policy packs exercised", fmt.Sprint(len(a.Packs))},
	}, Tables: []Table{
		{ID: "controls", Title: "Control coverage", Columns: cols("control_id"), Rows: controlRows(a.Controls)},
		{ID: "policy_packs", Title: "Policy pack coverage", Columns: cols("policy_pack"), Rows: controlRows(a.Packs)},
	}}
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

func evidenceFreshness(a *Aggregates, m Meta) Document {
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
	return Document{Headline: []Fact{
		{"Stale after (hours)", fmt.Sprint(int(stale.Hours()))},
		{"Connectors", fmt.Sprint(len(a.Connectors))},
		{"Stale connectors", fmt.Sprint(staleConn)},
		{"Controls", fmt.Sprint(len(a.Controls))},
		{"Stale controls", fmt.Sprint(staleCtl)},
	}, Tables: []Table{
		{ID: "connectors", Title: "Connector evidence freshness", Columns: cols("connector"), Rows: conn},
		{ID: "controls", Title: "Control evidence freshness", Columns: cols("control_id"), Rows: ctl},
	}}
}

func boardPack(a *Aggregates, m Meta) Document {
	top := agentTable(a)
	top.ID, top.Title = "top_risks", "Top agent risks"
	if len(top.Rows) > 10 {
		top.Rows = top.Rows[:10]
	}
	return Document{Headline: headline(a), Tables: []Table{
		countsTable("by_decision", "Posture by decision", "decision", a.ByDecision),
		countsTable("by_severity", "Posture by severity", "severity", a.BySeverity),
		trendTable(a),
		top,
	}}
}
