package render

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// Counts is a tally by key.
type Counts map[string]int

// AgentStats summarises one agent.
type AgentStats struct {
	Connectors       map[string]bool
	Environments     map[string]bool
	Events           int
	Blocked          int
	ApprovalRequired int
	Warned           int
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
	ByEnvironment    Counts
	ByConnectorType  Counts
	ByRiskClass      Counts
	BlockedByAction  Counts
	ApprovalByAction Counts
	Blocked          int
	ApprovalRequired int
	Warned           int
	Attested         int
	HighOrCritical   int
	Trend            map[string]Counts // UTC day -> decision counts
	TypeDecisions    map[string]Counts // event type -> decision counts
	Agents           map[string]*AgentStats
	Controls         map[string]*ControlStats
	Packs            map[string]*ControlStats
	Connectors       map[string]*SourceStats
}

func newAggregates() *Aggregates {
	return &Aggregates{
		ByDecision: Counts{}, BySeverity: Counts{}, ByConnector: Counts{}, ByAgent: Counts{},
		ByPolicyPack: Counts{}, ByType: Counts{}, ByEnvironment: Counts{}, ByConnectorType: Counts{}, ByRiskClass: Counts{},
		BlockedByAction: Counts{}, ApprovalByAction: Counts{},
		Trend: map[string]Counts{}, TypeDecisions: map[string]Counts{}, Agents: map[string]*AgentStats{}, Controls: map[string]*ControlStats{},
		Packs: map[string]*ControlStats{}, Connectors: map[string]*SourceStats{},
	}
}

var severityRank = map[string]int{"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

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
	return eachEvent(ctx, objects, s, w, func(e *Event) error {
		agg.add(e)
		return nil
	})
}

// eachEvent streams one segment, calling fn for every event inside the window, and checks
// the segment's bytes against the digest and event count of its index entry.
func eachEvent(ctx context.Context, objects Objects, s ingest.Segment, w Window, fn func(*Event) error) error {
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
		e, err := decodeEvent(b)
		if err != nil {
			return fmt.Errorf("segment %s line %d: %w", s.SegmentRef, n, ErrCorrupt)
		}
		if !e.At.Before(w.From) && e.At.Before(w.To) {
			if err := fn(&e); err != nil {
				return err
			}
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

func (a *Aggregates) add(e *Event) {
	at := e.At
	a.Events++
	if a.First.IsZero() || at.Before(a.First) {
		a.First = at
	}
	if at.After(a.Last) {
		a.Last = at
	}
	a.ByDecision[e.Decision]++
	a.BySeverity[e.Severity]++
	a.ByConnector[e.Connector]++
	a.ByConnectorType[e.ConnectorType]++
	a.ByAgent[e.Agent]++
	a.ByPolicyPack[e.PolicyPack]++
	a.ByType[e.Type]++
	a.ByEnvironment[e.Environment]++
	if e.RiskClass != "" {
		a.ByRiskClass[e.RiskClass]++
	}
	a.addOutcome(e)
	day := at.Format("2006-01-02")
	if a.Trend[day] == nil {
		a.Trend[day] = Counts{}
	}
	a.Trend[day][e.Decision]++
	if a.TypeDecisions[e.Type] == nil {
		a.TypeDecisions[e.Type] = Counts{}
	}
	a.TypeDecisions[e.Type][e.Decision]++
	a.addAgent(e)
	for _, c := range e.Controls {
		a.Controls[c] = touchControl(a.Controls[c], e.PolicyPack, e.Decision, at)
	}
	a.Packs[e.PolicyPack] = touchControl(a.Packs[e.PolicyPack], e.PolicyPack, e.Decision, at)
	src := a.Connectors[e.Connector]
	if src == nil {
		src = &SourceStats{}
		a.Connectors[e.Connector] = src
	}
	src.Events++
	if at.After(src.LastSeen) {
		src.LastSeen = at
	}
}

// addOutcome counts the decisions reports single out, each in its own bucket.
func (a *Aggregates) addOutcome(e *Event) {
	action := e.Action
	if action == "" {
		action = "unspecified"
	}
	switch e.Decision {
	case Block:
		a.Blocked++
		a.BlockedByAction[action]++
	case RequireApproval:
		a.ApprovalRequired++
		a.ApprovalByAction[action]++
	case Warn:
		a.Warned++
	case AllowWithAttestation:
		a.Attested++
	}
	if severityRank[e.Severity] >= severityRank["high"] {
		a.HighOrCritical++
	}
}

func (a *Aggregates) addAgent(e *Event) {
	s := a.Agents[e.Agent]
	if s == nil {
		s = &AgentStats{Connectors: map[string]bool{}, Environments: map[string]bool{}, MaxSeverity: "none"}
		a.Agents[e.Agent] = s
	}
	s.Connectors[e.Connector] = true
	s.Environments[e.Environment] = true
	s.Events++
	switch e.Decision {
	case Block:
		s.Blocked++
	case RequireApproval:
		s.ApprovalRequired++
	case Warn:
		s.Warned++
	}
	if severityRank[e.Severity] > severityRank[s.MaxSeverity] {
		s.MaxSeverity = e.Severity
	}
	if r := e.RiskScore; r != nil {
		s.MaxRisk = max(s.MaxRisk, *r)
		s.RiskSum += *r
		s.RiskN++
	}
	if e.At.After(s.LastSeen) {
		s.LastSeen = e.At
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
	a.Warned += o.Warned
	a.Attested += o.Attested
	a.HighOrCritical += o.HighOrCritical
	for _, p := range []struct{ dst, src Counts }{
		{a.ByDecision, o.ByDecision}, {a.BySeverity, o.BySeverity}, {a.ByConnector, o.ByConnector},
		{a.ByAgent, o.ByAgent}, {a.ByPolicyPack, o.ByPolicyPack}, {a.ByType, o.ByType},
		{a.ByEnvironment, o.ByEnvironment}, {a.ByConnectorType, o.ByConnectorType}, {a.ByRiskClass, o.ByRiskClass},
		{a.BlockedByAction, o.BlockedByAction}, {a.ApprovalByAction, o.ApprovalByAction},
	} {
		p.dst.merge(p.src)
	}
	mergeCounts(a.Trend, o.Trend)
	mergeCounts(a.TypeDecisions, o.TypeDecisions)
	mergeMap(a.Agents, o.Agents, (*AgentStats).merge)
	mergeMap(a.Controls, o.Controls, (*ControlStats).merge)
	mergeMap(a.Packs, o.Packs, (*ControlStats).merge)
	mergeMap(a.Connectors, o.Connectors, (*SourceStats).merge)
}

// mergeCounts adds src's keyed tallies to dst's.
func mergeCounts(dst, src map[string]Counts) {
	for k, c := range src {
		if dst[k] == nil {
			dst[k] = Counts{}
		}
		dst[k].merge(c)
	}
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
	for e := range s.Environments {
		d.Environments[e] = true
	}
	d.Events += s.Events
	d.Blocked += s.Blocked
	d.ApprovalRequired += s.ApprovalRequired
	d.Warned += s.Warned
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
