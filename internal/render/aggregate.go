package render

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// line is the part of a stored envelope the reports read.
type line struct {
	Source struct {
		Kind      string `json:"kind"`
		Connector string `json:"connector"`
		Agent     string `json:"agent"`
	} `json:"source"`
	Event struct {
		OccurredAt     string   `json:"occurred_at"`
		Type           string   `json:"type"`
		Decision       string   `json:"decision"`
		Severity       string   `json:"severity"`
		PolicyPack     string   `json:"policy_pack"`
		ControlIDs     []string `json:"control_ids"`
		ActionCategory string   `json:"action_category"`
		RiskScore      *int     `json:"risk_score"`
	} `json:"event"`
}

// Counts is a tally by key.
type Counts map[string]int

// AgentStats summarises one agent.
type AgentStats struct {
	Connectors       map[string]bool
	Events           int
	Blocked          int
	ApprovalRequired int
	MaxSeverity      string
	MaxRisk          int
	RiskSum, RiskN   int
	LastSeen         time.Time
}

// ControlStats summarises one control id or policy pack.
type ControlStats struct {
	Packs     map[string]bool
	Decisions Counts
	Events    int
	LastSeen  time.Time
}

// SourceStats is when a connector last produced evidence.
type SourceStats struct {
	Events   int
	LastSeen time.Time
}

// Aggregates is everything the report builders need, computed in one pass.
type Aggregates struct {
	Events           int
	First, Last      time.Time
	ByDecision       Counts
	BySeverity       Counts
	ByConnector      Counts
	ByAgent          Counts
	ByPolicyPack     Counts
	ByType           Counts
	BlockedByAction  Counts
	ApprovalByAction Counts
	Blocked          int
	ApprovalRequired int
	Trend            map[string]Counts // UTC day -> decision counts
	Agents           map[string]*AgentStats
	Controls         map[string]*ControlStats
	Packs            map[string]*ControlStats
	Connectors       map[string]*SourceStats
}

func newAggregates() *Aggregates {
	return &Aggregates{
		ByDecision: Counts{}, BySeverity: Counts{}, ByConnector: Counts{}, ByAgent: Counts{},
		ByPolicyPack: Counts{}, ByType: Counts{}, BlockedByAction: Counts{}, ApprovalByAction: Counts{},
		Trend: map[string]Counts{}, Agents: map[string]*AgentStats{}, Controls: map[string]*ControlStats{},
		Packs: map[string]*ControlStats{}, Connectors: map[string]*SourceStats{},
	}
}

var severityRank = map[string]int{"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

// Aggregate reads the segments one at a time (a few in parallel, one per core) and tallies
// the events inside the window. Each segment's bytes are checked against the digest and
// event count of its index entry while they stream by.
func Aggregate(ctx context.Context, objects Objects, segs []ingest.Segment, w Window) (*Aggregates, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := min(runtime.GOMAXPROCS(0), len(segs))
	jobs := make(chan ingest.Segment)
	parts := make([]*Aggregates, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		parts[i] = newAggregates()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				if errs[i] != nil {
					continue
				}
				if errs[i] = scanSegment(ctx, objects, s, w, parts[i]); errs[i] != nil {
					cancel()
				}
			}
		}()
	}
feed:
	for _, s := range segs {
		select {
		case jobs <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := newAggregates()
	for _, p := range parts {
		total.merge(p)
	}
	if total.Events == 0 {
		return nil, ErrNoData
	}
	return total, nil
}

func scanSegment(ctx context.Context, objects Objects, s ingest.Segment, w Window, agg *Aggregates) error {
	body, _, err := objects.Get(ctx, s.ObjectKey, s.VersionID)
	if err != nil {
		return fmt.Errorf("read segment %s: %w", s.SegmentRef, err)
	}
	defer body.Close()
	h := sha256.New()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		b := sc.Bytes()
		h.Write(b)
		h.Write([]byte{'\n'})
		n++
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("segment %s line %d: %w", s.SegmentRef, n, ErrCorrupt)
		}
		at, err := time.Parse(time.RFC3339Nano, l.Event.OccurredAt)
		if err != nil {
			return fmt.Errorf("segment %s line %d: %w", s.SegmentRef, n, ErrCorrupt)
		}
		if !at.Before(w.From) && at.Before(w.To) {
			agg.add(&l, at.UTC())
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read segment %s: %w", s.SegmentRef, err)
	}
	if n != s.Events || objectstore.Digest(h.Sum(nil)) != s.Digest {
		return fmt.Errorf("segment %s: %w", s.SegmentRef, ErrCorrupt)
	}
	return nil
}

func (a *Aggregates) add(l *line, at time.Time) {
	e := &l.Event
	a.Events++
	if a.First.IsZero() || at.Before(a.First) {
		a.First = at
	}
	if at.After(a.Last) {
		a.Last = at
	}
	a.ByDecision[e.Decision]++
	a.BySeverity[e.Severity]++
	a.ByConnector[l.Source.Connector]++
	a.ByAgent[l.Source.Agent]++
	a.ByPolicyPack[e.PolicyPack]++
	a.ByType[e.Type]++
	action := e.ActionCategory
	if action == "" {
		action = "unspecified"
	}
	switch e.Decision {
	case "blocked", "denied":
		a.Blocked++
		a.BlockedByAction[action]++
	case "approval_required":
		a.ApprovalRequired++
		a.ApprovalByAction[action]++
	}
	day := at.Format("2006-01-02")
	if a.Trend[day] == nil {
		a.Trend[day] = Counts{}
	}
	a.Trend[day][e.Decision]++
	a.addAgent(l, at)
	for _, c := range e.ControlIDs {
		a.Controls[c] = touchControl(a.Controls[c], e.PolicyPack, e.Decision, at)
	}
	a.Packs[e.PolicyPack] = touchControl(a.Packs[e.PolicyPack], e.PolicyPack, e.Decision, at)
	src := a.Connectors[l.Source.Connector]
	if src == nil {
		src = &SourceStats{}
		a.Connectors[l.Source.Connector] = src
	}
	src.Events++
	if at.After(src.LastSeen) {
		src.LastSeen = at
	}
}

func (a *Aggregates) addAgent(l *line, at time.Time) {
	s := a.Agents[l.Source.Agent]
	if s == nil {
		s = &AgentStats{Connectors: map[string]bool{}, MaxSeverity: "info"}
		a.Agents[l.Source.Agent] = s
	}
	s.Connectors[l.Source.Connector] = true
	s.Events++
	switch l.Event.Decision {
	case "blocked", "denied":
		s.Blocked++
	case "approval_required":
		s.ApprovalRequired++
	}
	if severityRank[l.Event.Severity] > severityRank[s.MaxSeverity] {
		s.MaxSeverity = l.Event.Severity
	}
	if r := l.Event.RiskScore; r != nil {
		s.MaxRisk = max(s.MaxRisk, *r)
		s.RiskSum += *r
		s.RiskN++
	}
	if at.After(s.LastSeen) {
		s.LastSeen = at
	}
}

func touchControl(c *ControlStats, pack, decision string, at time.Time) *ControlStats {
	if c == nil {
		c = &ControlStats{Packs: map[string]bool{}, Decisions: Counts{}}
	}
	c.Packs[pack] = true
	c.Decisions[decision]++
	c.Events++
	if at.After(c.LastSeen) {
		c.LastSeen = at
	}
	return c
}

func (c Counts) merge(o Counts) {
	for k, v := range o {
		c[k] += v
	}
}

// merge folds another worker's tallies into a; every operation is commutative, so the
// result does not depend on which worker read which segment.
func (a *Aggregates) merge(o *Aggregates) {
	if o.Events == 0 {
		return
	}
	if a.Events == 0 || o.First.Before(a.First) {
		a.First = o.First
	}
	if o.Last.After(a.Last) {
		a.Last = o.Last
	}
	a.Events += o.Events
	a.Blocked += o.Blocked
	a.ApprovalRequired += o.ApprovalRequired
	for _, p := range []struct{ dst, src Counts }{
		{a.ByDecision, o.ByDecision}, {a.BySeverity, o.BySeverity}, {a.ByConnector, o.ByConnector},
		{a.ByAgent, o.ByAgent}, {a.ByPolicyPack, o.ByPolicyPack}, {a.ByType, o.ByType},
		{a.BlockedByAction, o.BlockedByAction}, {a.ApprovalByAction, o.ApprovalByAction},
	} {
		p.dst.merge(p.src)
	}
	for day, c := range o.Trend {
		if a.Trend[day] == nil {
			a.Trend[day] = Counts{}
		}
		a.Trend[day].merge(c)
	}
	mergeMap(a.Agents, o.Agents, (*AgentStats).merge)
	mergeMap(a.Controls, o.Controls, (*ControlStats).merge)
	mergeMap(a.Packs, o.Packs, (*ControlStats).merge)
	mergeMap(a.Connectors, o.Connectors, (*SourceStats).merge)
}

// mergeMap adds src's entries to dst: a key dst lacks takes src's value as it is, a key
// both have is merged into dst's.
func mergeMap[T any](dst, src map[string]*T, merge func(d, s *T)) {
	for k, s := range src {
		if d := dst[k]; d != nil {
			merge(d, s)
		} else {
			dst[k] = s
		}
	}
}

func (d *AgentStats) merge(s *AgentStats) {
	for c := range s.Connectors {
		d.Connectors[c] = true
	}
	d.Events += s.Events
	d.Blocked += s.Blocked
	d.ApprovalRequired += s.ApprovalRequired
	if severityRank[s.MaxSeverity] > severityRank[d.MaxSeverity] {
		d.MaxSeverity = s.MaxSeverity
	}
	d.MaxRisk = max(d.MaxRisk, s.MaxRisk)
	d.RiskSum += s.RiskSum
	d.RiskN += s.RiskN
	if s.LastSeen.After(d.LastSeen) {
		d.LastSeen = s.LastSeen
	}
}

func (d *ControlStats) merge(s *ControlStats) {
	for p := range s.Packs {
		d.Packs[p] = true
	}
	d.Decisions.merge(s.Decisions)
	d.Events += s.Events
	if s.LastSeen.After(d.LastSeen) {
		d.LastSeen = s.LastSeen
	}
}

func (d *SourceStats) merge(s *SourceStats) {
	d.Events += s.Events
	if s.LastSeen.After(d.LastSeen) {
		d.LastSeen = s.LastSeen
	}
}
