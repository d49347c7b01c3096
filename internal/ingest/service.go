package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// Items is the part of the item store ingest needs.
type Items interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Objects is the part of the object store ingest needs.
type Objects interface {
	Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error)
}

// RetentionDays tells how long a tenant keeps operational records (its settings).
type RetentionDays func(ctx context.Context, tenantID string) (int, error)

// Service stores envelopes.
type Service struct {
	items     Items
	objects   Objects
	retention RetentionDays
	clock     clock.Clock
}

func NewService(items Items, objects Objects, retention RetentionDays, clk clock.Clock) *Service {
	return &Service{items: items, objects: objects, retention: retention, clock: clk}
}

// segmentCapacity keeps each segment's transaction (one idempotency item per envelope plus
// the index item and the evidence record) within the item store's transaction limit.
const segmentCapacity = itemstore.MaxTransactWrites - 10

// lookupConcurrency bounds parallel idempotency lookups per request.
const lookupConcurrency = 8

// Result reports what a request did.
type Result struct {
	Accepted     int             `json:"accepted"`
	Duplicates   int             `json:"duplicates"`
	Segments     []SegmentRef    `json:"segments"`
	EvidenceRefs []string        `json:"evidence_refs"`
	Envelopes    []EnvelopeState `json:"envelopes"`
}

// EnvelopeState is the outcome for one envelope, in request order.
type EnvelopeState struct {
	IdempotencyKey string `json:"idempotency_key"` // as given, or derived from connector and event id
	EventID        string `json:"event_id"`
	Status         string `json:"status"` // accepted | duplicate
}

// SegmentRef describes one stored segment.
type SegmentRef struct {
	SegmentRef string `json:"segment_ref"`
	Day        string `json:"day"`
	Events     int    `json:"events"`
	Digest     string `json:"digest"`
}

// Segment is the index record of one stored segment.
type Segment struct {
	SegmentRef string `json:"segment_ref"`
	Day        string `json:"day"`
	ObjectKey  string `json:"object_key"`
	VersionID  string `json:"version_id"`
	Digest     string `json:"digest"`
	Events     int    `json:"events"`
	FirstAt    string `json:"first_at"`
	LastAt     string `json:"last_at"`
	StoredAt   string `json:"stored_at"`
}

type idemRecord struct {
	Digest     string `json:"envelope_digest"`
	SegmentRef string `json:"segment_ref"`
}

// DayKey is the index partition of a tenant's segments for one UTC day (YYYY-MM-DD).
func DayKey(tenantID, day string) string { return "T#" + tenantID + "#SEG#" + day }

func idemKey(tenantID, key string) string { return "T#" + tenantID + "#IDEM#" + key }

// Ingest validates and stores a JSON request body (one envelope or a batch) for tenantID.
func (s *Service) Ingest(ctx context.Context, tenantID, actorRole string, body []byte) (Result, error) {
	now := s.clock.Now()
	envs, err := Parse(body, tenantID, now)
	if err != nil {
		return Result{}, err
	}
	return s.store(ctx, tenantID, actorRole, envs)
}

// IngestNDJSON validates and stores an application/x-ndjson body (one envelope a line).
func (s *Service) IngestNDJSON(ctx context.Context, tenantID, actorRole string, body []byte) (Result, error) {
	envs, err := ParseNDJSON(body, tenantID, s.clock.Now())
	if err != nil {
		return Result{}, err
	}
	return s.store(ctx, tenantID, actorRole, envs)
}

func (s *Service) store(ctx context.Context, tenantID, actorRole string, envs []parsed) (Result, error) {
	if err := dedupeBatch(envs); err != nil {
		return Result{}, err
	}
	if err := s.markStored(ctx, tenantID, envs); err != nil {
		return Result{}, err
	}
	days, err := s.retention(ctx, tenantID)
	if err != nil {
		return Result{}, err
	}
	res := Result{Segments: []SegmentRef{}, EvidenceRefs: []string{}}
	for _, chunk := range chunks(fresh(envs)) {
		if err := s.storeChunk(ctx, tenantID, actorRole, chunk, days, &res); err != nil {
			return Result{}, err
		}
	}
	for _, p := range envs {
		status := "accepted"
		if p.duplicate {
			status = "duplicate"
			res.Duplicates++
		} else {
			res.Accepted++
		}
		res.Envelopes = append(res.Envelopes, EnvelopeState{IdempotencyKey: p.key, EventID: p.eventID, Status: status})
	}
	return res, nil
}

// dedupeBatch marks repeats inside one request; a key reused for different content is refused.
func dedupeBatch(envs []parsed) error {
	first := map[string]int{}
	for i := range envs {
		k := envs[i].key
		j, seen := first[k]
		if !seen {
			first[k] = i
			continue
		}
		if envs[j].digest != envs[i].digest {
			return problem.New(problem.Invalid, "idempotency_key_reused", joinField(envs[i].field, envs[i].keyField),
				"the same idempotency_key is used for a different envelope in this batch")
		}
		envs[i].duplicate = true
	}
	return nil
}

// markStored looks up every not-yet-duplicate key; stored ones with the same content are
// duplicates, with different content a conflict.
func (s *Service) markStored(ctx context.Context, tenantID string, envs []parsed) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, lookupConcurrency)
	)
	for i := range envs {
		if envs[i].duplicate {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(p *parsed) {
			defer func() { <-sem; wg.Done() }()
			err := s.checkStored(ctx, tenantID, p)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(&envs[i])
	}
	wg.Wait()
	return firstErr
}

func (s *Service) checkStored(ctx context.Context, tenantID string, p *parsed) error {
	it, err := s.items.Get(ctx, idemKey(tenantID, p.key), "IDEM")
	if errors.Is(err, itemstore.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("idempotency lookup: %w", err)
	}
	var rec idemRecord
	if err := json.Unmarshal(it.Data, &rec); err != nil {
		return fmt.Errorf("decode idempotency record: %w", err)
	}
	if rec.Digest != p.digest {
		return problem.New(problem.Conflict, "idempotency_key_reused", joinField(p.field, p.keyField),
			"this idempotency_key was already used for a different envelope")
	}
	p.duplicate = true
	return nil
}

func fresh(envs []parsed) []*parsed {
	var out []*parsed
	for i := range envs {
		if !envs[i].duplicate {
			out = append(out, &envs[i])
		}
	}
	return out
}

// chunks groups envelopes by UTC day, sorted by time then event id, in segments of at most
// segmentCapacity, so the same input always gives the same segments.
func chunks(envs []*parsed) [][]*parsed {
	sort.SliceStable(envs, func(i, j int) bool {
		if !envs[i].at.Equal(envs[j].at) {
			return envs[i].at.Before(envs[j].at)
		}
		return envs[i].eventID < envs[j].eventID
	})
	var out [][]*parsed
	var cur []*parsed
	for _, p := range envs {
		if len(cur) > 0 && (len(cur) == segmentCapacity || day(cur[0].at) != day(p.at)) {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, p)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// storeChunk writes the segment object, then indexes it with the idempotency records and
// evidence in one transaction. If a concurrent request stored some of the same keys first,
// the transaction fails as a whole; those keys are re-checked and the rest retried. A
// segment object whose transaction failed is never indexed, so it is never read.
func (s *Service) storeChunk(ctx context.Context, tenantID, actorRole string, chunk []*parsed, days int, res *Result) error {
	for attempt := 0; attempt < 3 && len(chunk) > 0; attempt++ {
		err := s.tryChunk(ctx, tenantID, actorRole, chunk, days, res)
		if !errors.Is(err, itemstore.ErrConflict) {
			return err
		}
		if chunk, err = s.recheck(ctx, tenantID, chunk); err != nil {
			return err
		}
	}
	if len(chunk) > 0 {
		return problem.New(problem.Conflict, "concurrent_ingest", "", "concurrent requests kept racing for the same idempotency keys; retry")
	}
	return nil
}

func (s *Service) recheck(ctx context.Context, tenantID string, chunk []*parsed) ([]*parsed, error) {
	var left []*parsed
	for _, p := range chunk {
		if err := s.checkStored(ctx, tenantID, p); err != nil {
			return nil, err
		}
		if !p.duplicate {
			left = append(left, p)
		}
	}
	return left, nil
}

func (s *Service) tryChunk(ctx context.Context, tenantID, actorRole string, chunk []*parsed, days int, res *Result) error {
	now := s.clock.Now()
	seg, err := s.putSegment(ctx, tenantID, chunk, days, now)
	if err != nil {
		return err
	}
	ev, err := evidence.New(evidence.Event{
		TenantID: tenantID, Action: evidence.IngestAccepted, ActorRole: actorRole,
		SubjectRefs: []string{seg.SegmentRef},
		Details:     map[string]any{"events": seg.Events, "day": seg.Day, "segment_digest": seg.Digest},
	}, now)
	if err != nil {
		return err
	}
	writes, err := indexWrites(tenantID, seg, chunk, ev)
	if err != nil {
		return err
	}
	if err := s.items.Transact(ctx, writes); err != nil {
		return fmt.Errorf("index segment: %w", err)
	}
	res.Segments = append(res.Segments, SegmentRef{SegmentRef: seg.SegmentRef, Day: seg.Day, Events: seg.Events, Digest: seg.Digest})
	res.EvidenceRefs = append(res.EvidenceRefs, ev.Ref)
	return nil
}

func (s *Service) putSegment(ctx context.Context, tenantID string, chunk []*parsed, days int, now time.Time) (Segment, error) {
	var buf bytes.Buffer
	for _, p := range chunk {
		buf.Write(p.line)
		buf.WriteByte('\n')
	}
	id := ref.NewID("seg", now)
	d := day(chunk[0].at)
	key := fmt.Sprintf("tenants/%s/ingest/%s/%s.jsonl", tenantID, d, id)
	digest := canonjson.Digest(buf.Bytes())
	info, err := s.objects.Put(ctx, objectstore.PutInput{
		Key: key, Body: bytes.NewReader(buf.Bytes()), ContentType: "application/x-ndjson",
		Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: now.AddDate(0, 0, days)},
		Metadata:  map[string]string{"tenant": tenantID, "record-class": "operational_record"},
	})
	if err != nil {
		return Segment{}, fmt.Errorf("store segment: %w", err)
	}
	return Segment{
		SegmentRef: ref.Make("segment", id), Day: d, ObjectKey: key, VersionID: info.VersionID,
		Digest: digest, Events: len(chunk),
		FirstAt:  chunk[0].at.Format(time.RFC3339Nano),
		LastAt:   chunk[len(chunk)-1].at.Format(time.RFC3339Nano),
		StoredAt: now.Format(time.RFC3339Nano),
	}, nil
}

func indexWrites(tenantID string, seg Segment, chunk []*parsed, ev evidence.Record) ([]itemstore.Write, error) {
	segData, err := json.Marshal(seg)
	if err != nil {
		return nil, err
	}
	writes := []itemstore.Write{{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: DayKey(tenantID, seg.Day), SK: seg.SegmentRef, Data: segData}}}
	for _, p := range chunk {
		data, err := json.Marshal(idemRecord{Digest: p.digest, SegmentRef: seg.SegmentRef})
		if err != nil {
			return nil, err
		}
		writes = append(writes, itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
			Item: itemstore.Item{PK: idemKey(tenantID, p.key), SK: "IDEM", Data: data}})
	}
	evw, err := ev.Write()
	if err != nil {
		return nil, err
	}
	return append(writes, evw), nil
}

// Segments lists the indexed segments of tenantID for one UTC day, in ref (= time) order.
func (s *Service) Segments(ctx context.Context, tenantID, day string) ([]Segment, error) {
	var out []Segment
	q := itemstore.Query{PK: DayKey(tenantID, day), Limit: 1000}
	for {
		page, err := s.items.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list segments: %w", err)
		}
		for _, it := range page.Items {
			var seg Segment
			if err := json.Unmarshal(it.Data, &seg); err != nil {
				return nil, fmt.Errorf("decode segment index: %w", err)
			}
			out = append(out, seg)
		}
		if page.Next == "" {
			return out, nil
		}
		q.Cursor = page.Next
	}
}
