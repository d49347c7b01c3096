// Package render turns a tenant's ingested AISPM metadata into report documents and their
// file formats. It streams over the stored day-partitioned segments of a window, one segment
// at a time, so memory grows with the number of distinct agents, connectors and controls,
// never with the number of events. The same snapshot (segments of the window) and the same
// template version always give byte-identical files: nothing reads the wall clock or depends
// on map order, and every embedded timestamp is the window's end.
package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// MaxWindow is the longest window a render may cover; longer ones are refused up front
// rather than scanning years of partitions.
const MaxWindow = 366 * 24 * time.Hour

// Window is a half-open time range [From, To) in UTC.
type Window struct {
	From, To time.Time
}

// Days lists the UTC day partitions the window touches.
func (w Window) Days() []string {
	var out []string
	for d := w.From.UTC().Truncate(24 * time.Hour); d.Before(w.To); d = d.Add(24 * time.Hour) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}

// Segments lists a tenant's indexed segments of one day (ingest.Service does).
type Segments interface {
	Segments(ctx context.Context, tenantID, day string) ([]ingest.Segment, error)
}

// Objects reads stored segment bytes.
type Objects interface {
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, objectstore.Info, error)
}

// ErrNoData means the window holds no ingested event: nothing is rendered.
var ErrNoData = errors.New("no ingested events in the window")

// ErrCorrupt means a stored segment no longer matches its index (digest or count): the
// render stops rather than deliver a partial report.
var ErrCorrupt = errors.New("stored segment does not match its index")

// Snapshot identifies the data a render read: the segments of the window, by digest.
type Snapshot struct {
	Ref      string
	Segments []ingest.Segment
}

// TakeSnapshot lists the window's segments and derives the snapshot ref: the digest of the
// window and the sorted segment digests. Listing reads the index only, not the segments.
func TakeSnapshot(ctx context.Context, src Segments, tenantID string, w Window) (Snapshot, error) {
	var segs []ingest.Segment
	for _, day := range w.Days() {
		got, err := src.Segments(ctx, tenantID, day)
		if err != nil {
			return Snapshot{}, err
		}
		for _, s := range got {
			if overlaps(s, w) {
				segs = append(segs, s)
			}
		}
	}
	if len(segs) == 0 {
		return Snapshot{}, ErrNoData
	}
	digests := make([]string, len(segs))
	for i, s := range segs {
		digests[i] = s.Digest
	}
	slices.Sort(digests)
	ref, err := canonjson.DigestOf(map[string]any{
		"tenant": tenantID, "from": stamp(w.From), "to": stamp(w.To), "segment_digests": digests,
	})
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Ref: "snapshot:" + ref[len("sha256:"):], Segments: segs}, nil
}

// overlaps tells whether a segment can hold events of the window, from its first/last times.
func overlaps(s ingest.Segment, w Window) bool {
	first, err1 := time.Parse(time.RFC3339Nano, s.FirstAt)
	last, err2 := time.Parse(time.RFC3339Nano, s.LastAt)
	if err1 != nil || err2 != nil {
		return true // unknown bounds: read it and filter per event
	}
	return last.Compare(w.From) >= 0 && first.Before(w.To)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Render aggregates the snapshot and builds the report document.
func Render(ctx context.Context, objects Objects, snap Snapshot, w Window, reportID string, meta Meta) (Document, error) {
	b, ok := builders[reportID]
	if !ok {
		return Document{}, fmt.Errorf("render: no builder for %q", reportID)
	}
	agg, err := Aggregate(ctx, objects, snap.Segments, w)
	if err != nil {
		return Document{}, err
	}
	meta.SnapshotRef = snap.Ref
	meta.From, meta.To = stamp(w.From), stamp(w.To)
	doc := b(agg, meta)
	doc.Meta = meta
	doc.ReportID = reportID
	doc.TemplateVersion = TemplateVersion(reportID)
	return doc, nil
}

// TemplateVersion names the layout version of a report; a change to a builder or writer
// that changes bytes must bump it, so "same snapshot and template" keeps meaning "same bytes".
func TemplateVersion(reportID string) string { return reportID + ".v1" }
