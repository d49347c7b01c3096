package render

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// store is an in-memory segment store: index entries by day, bytes by key.
type store struct {
	days    map[string][]ingest.Segment
	objects map[string][]byte
}

func (s *store) Segments(_ context.Context, _ string, day string) ([]ingest.Segment, error) {
	return s.days[day], nil
}

func (s *store) Get(_ context.Context, key, _ string) (io.ReadCloser, objectstore.Info, error) {
	b, ok := s.objects[key]
	if !ok {
		return nil, objectstore.Info{}, objectstore.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), objectstore.Info{Size: int64(len(b))}, nil
}

var (
	decisions3 = []string{"allowed", "blocked", "approval_required"}
	window     = Window{From: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
)

// seed stores n events in segments of per events; event i happens at window.From + i
// minutes minus a day, so the first day's worth lies before the window (and must not count).
func seed(n, per int) (*store, map[string]int) {
	s := &store{days: map[string][]ingest.Segment{}, objects: map[string][]byte{}}
	inWindow := map[string]int{}
	var buf bytes.Buffer
	var first, last time.Time
	flush := func(seq int) {
		if buf.Len() == 0 {
			return
		}
		key := fmt.Sprintf("seg/%06d.jsonl", seq)
		body := bytes.Clone(buf.Bytes())
		s.objects[key] = body
		day := first.Format("2006-01-02")
		s.days[day] = append(s.days[day], ingest.Segment{SegmentRef: "segment:" + key, Day: day, ObjectKey: key,
			Digest: objectstore.DigestOf(body), Events: bytes.Count(body, []byte{'\n'}),
			FirstAt: first.Format(time.RFC3339Nano), LastAt: last.Format(time.RFC3339Nano)})
		buf.Reset()
	}
	for i := range n {
		at := window.From.Add(-24*time.Hour + time.Duration(i)*time.Minute)
		if buf.Len() > 0 && (bytes.Count(buf.Bytes(), []byte{'\n'}) == per || at.Format("2006-01-02") != first.Format("2006-01-02")) {
			flush(i)
		}
		if buf.Len() == 0 {
			first = at
		}
		last = at
		d := decisions3[i%len(decisions3)]
		if !at.Before(window.From) && at.Before(window.To) {
			inWindow[d]++
		}
		fmt.Fprintf(&buf, `{"source":{"kind":"agent","connector":"c%d","agent":"a%d"},"event":{"occurred_at":%q,"type":"tool_call","decision":%q,"severity":"high","policy_pack":"p%d","control_ids":["AC-%d"],"action_category":"shell","risk_score":%d}}`+"\n",
			i%3, i%5, at.Format(time.RFC3339), d, i%2, i%4, i%100)
	}
	flush(n)
	return s, inWindow
}

func renderDoc(t *testing.T, s *store, report string) Document {
	t.Helper()
	snap, err := TakeSnapshot(context.Background(), s, "acme", window)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Render(context.Background(), s, snap, window, report, Meta{TenantRef: "tenant:acme", Title: "Brief",
		Branding: Branding{PrimaryColor: "#123456", AccentColor: "#abcdef", TitlePrefix: "ACME", FooterText: "Confidential", Organization: "Acme"}})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestAggregateCountsOnlyTheWindow(t *testing.T) {
	s, want := seed(6000, 90)
	doc := renderDoc(t, s, "executive_risk_brief")
	got := map[string]int{}
	for _, r := range doc.Tables[0].Rows {
		if n := r[1].(int); n > 0 {
			got[r[0].(string)] = n
		}
	}
	mapped := map[string]int{}
	for d, n := range want {
		mapped[legacyDecision[d]] += n
	}
	if fmt.Sprint(got) != fmt.Sprint(mapped) {
		t.Fatalf("by decision %v, want %v", got, mapped)
	}
	if doc.Meta.SnapshotRef == "" || doc.TemplateVersion != "executive_risk_brief.v1" {
		t.Fatalf("meta %+v", doc.Meta)
	}
}

func TestEmptyOrDamagedSnapshotIsAnError(t *testing.T) {
	s, _ := seed(10, 90) // every event lies the day before the window
	if _, err := TakeSnapshot(context.Background(), s, "acme", window); !errors.Is(err, ErrNoData) {
		t.Fatalf("snapshot of a window without data: %v", err)
	}
	s, _ = seed(3000, 90)
	snap, err := TakeSnapshot(context.Background(), s, "acme", window)
	if err != nil {
		t.Fatal(err)
	}
	// One flipped byte in the last segment: the whole render fails, nothing partial comes out.
	last := snap.Segments[len(snap.Segments)-1].ObjectKey
	s.objects[last] = bytes.Replace(s.objects[last], []byte(`"high"`), []byte(`"HIGH"`), 1)
	if _, err := Render(context.Background(), s, snap, window, "executive_risk_brief", Meta{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("render over a tampered segment: %v", err)
	}
	// A segment whose object is gone is an error too, not a smaller report.
	delete(s.objects, last)
	if _, err := Render(context.Background(), s, snap, window, "executive_risk_brief", Meta{}); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("render with a missing segment: %v", err)
	}
}

// TestFormatsAreByteIdentical writes every format of every report twice, from two
// aggregations that read the segments in opposite orders, and checks the bytes match.
func TestFormatsAreByteIdentical(t *testing.T) {
	s, _ := seed(5000, 90)
	for id := range builders {
		a := renderDoc(t, s, id)
		for day := range s.days { // reversed segment order within each day
			segs := s.days[day]
			for i, j := 0, len(segs)-1; i < j; i, j = i+1, j-1 {
				segs[i], segs[j] = segs[j], segs[i]
			}
		}
		b := renderDoc(t, s, id)
		for _, f := range FormatNames() {
			x, err := Write(a, f, []string{"json", "csv", "pdf", "xlsx"})
			if err != nil {
				t.Fatal(err)
			}
			y, err := Write(b, f, []string{"json", "csv", "pdf", "xlsx"})
			if err != nil {
				t.Fatal(err)
			}
			if len(x) == 0 || !bytes.Equal(x, y) {
				t.Errorf("%s as %s: %d vs %d bytes, not identical", id, f, len(x), len(y))
			}
		}
	}
}

// TestEmbeddedTimesComeFromTheSnapshot looks inside the container formats: every embedded
// timestamp is the window's end, never the time of writing.
func TestEmbeddedTimesComeFromTheSnapshot(t *testing.T) {
	s, _ := seed(2000, 90)
	doc := renderDoc(t, s, "executive_risk_brief")
	// To the hour, so the check cannot collide with the window's end (midnight).
	thisHour := time.Now().UTC()
	if thisHour.Hour() == 0 {
		thisHour = thisHour.Add(time.Hour)
	}
	pdf, err := Write(doc, "pdf", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pdf, []byte("/CreationDate (D:20261128000000")) || bytes.Contains(pdf, []byte("D:"+thisHour.Format("2006010215"))) {
		t.Fatal("pdf dates are not the window's end")
	}
	z, err := Write(doc, "zip", []string{"json", "pdf", "xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zipEntries(t, z) {
		if !f.Modified.Equal(window.To) {
			t.Errorf("zip entry %s modified %v", f.Name, f.Modified)
		}
	}
	x, err := Write(doc, "xlsx", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zipEntries(t, x) {
		if f.ModifiedDate != 0 || f.ModifiedTime != 0 { // no time recorded at all
			t.Errorf("xlsx part %s modified %v", f.Name, f.Modified)
		}
		if f.Name == "docProps/core.xml" {
			core := readEntry(t, f)
			if !strings.Contains(core, "2026-11-28T00:00:00Z") || strings.Contains(core, thisHour.Format("2006-01-02T15")) {
				t.Errorf("xlsx core properties: %s", core)
			}
		}
	}
}

func zipEntries(t *testing.T, b []byte) []*zip.File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return zr.File
}

func readEntry(t *testing.T, f *zip.File) string {
	t.Helper()
	r, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func TestWindowDays(t *testing.T) {
	w := Window{From: time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	if got := strings.Join(w.Days(), ","); got != "2026-11-25,2026-11-26" {
		t.Fatalf("days %s", got)
	}
}

// TestMergeAddsPartsKeyByKey: the per-worker tallies Aggregate merges keep keys found in
// one part as they are and add up keys found in both.
func TestMergeAddsPartsKeyByKey(t *testing.T) {
	t1, t2 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	part := func(events int, sev string, seen time.Time, conn string) *Aggregates {
		a := newAggregates()
		a.Events = events
		a.Agents["agent-a"] = &AgentStats{Connectors: map[string]bool{conn: true}, Events: events, Blocked: 1,
			MaxSeverity: sev, MaxRisk: events, RiskSum: events, RiskN: 1, LastSeen: seen}
		a.Controls["ctl-1"] = &ControlStats{Packs: map[string]bool{"pack-" + conn: true}, Decisions: Counts{"allow": events}, Events: events, LastSeen: seen}
		a.Packs["pack-x"] = &ControlStats{Packs: map[string]bool{}, Decisions: Counts{"deny": 1}, Events: 1, LastSeen: seen}
		a.Connectors[conn] = &SourceStats{Events: events, LastSeen: seen}
		a.Connectors["shared"] = &SourceStats{Events: 1, LastSeen: seen}
		return a
	}
	total := newAggregates()
	total.merge(part(3, "high", t2, "c1"))
	total.merge(part(5, "low", t1, "c2"))
	ag := total.Agents["agent-a"]
	if total.Events != 8 || ag.Events != 8 || ag.Blocked != 2 || ag.MaxSeverity != "high" || ag.MaxRisk != 5 ||
		ag.RiskSum != 8 || ag.RiskN != 2 || !ag.LastSeen.Equal(t2) || len(ag.Connectors) != 2 {
		t.Fatalf("agent: %+v (events %d)", ag, total.Events)
	}
	ctl := total.Controls["ctl-1"]
	if ctl.Events != 8 || ctl.Decisions["allow"] != 8 || len(ctl.Packs) != 2 || !ctl.LastSeen.Equal(t2) {
		t.Fatalf("control: %+v", ctl)
	}
	if p := total.Packs["pack-x"]; p.Events != 2 || p.Decisions["deny"] != 2 {
		t.Fatalf("pack: %+v", p)
	}
	if c1, c2, sh := total.Connectors["c1"], total.Connectors["c2"], total.Connectors["shared"]; c1.Events != 3 || c2.Events != 5 ||
		sh.Events != 2 || !sh.LastSeen.Equal(t2) {
		t.Fatalf("connectors: %+v %+v %+v", c1, c2, sh)
	}
}
