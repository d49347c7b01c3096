package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// Statuses lists every delivery status (the list filter's values).
var Statuses = []string{StatusBlocked, StatusPendingApproval, StatusQueued, StatusSending, StatusRetryScheduled,
	StatusDelivered, StatusDeadLettered, StatusDenied, StatusExpired, StatusVoided}

// Filter selects deliveries.
type Filter struct {
	Status, Channel, ReportID string
	From, To                  time.Time
	Limit                     int
	Cursor                    string
}

// ParseFilter reads the listing's query: status, channel, report_id, from, to (RFC 3339),
// limit (1..100) and cursor.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Status: q.Get("status"), Channel: q.Get("channel"), ReportID: q.Get("report_id"), Cursor: q.Get("cursor"), Limit: 50}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return Filter{}, problem.InvalidField("status", "unknown delivery status")
	}
	if f.Channel != "" && !slices.Contains([]string{Portal, Email, GRC}, f.Channel) {
		return Filter{}, problem.InvalidField("channel", "must be portal, email or grc")
	}
	if len(f.ReportID) > 64 {
		return Filter{}, problem.InvalidField("report_id", "too long")
	}
	for _, t := range []struct {
		name string
		into *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(t.name); v != "" {
			p, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return Filter{}, problem.InvalidField(t.name, "must be an RFC 3339 time")
			}
			*t.into = p
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return Filter{}, problem.InvalidField("limit", "must be 1..100")
		}
		f.Limit = n
	}
	return f, nil
}

func (f Filter) match(r Record) bool {
	return (f.Status == "" || r.Status == f.Status) && (f.Channel == "" || r.Channel == f.Channel) &&
		(f.ReportID == "" || r.ReportID == f.ReportID)
}

// Page is one page of deliveries, newest first.
type Page struct {
	Deliveries []Record `json:"deliveries"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// List returns the tenant's deliveries matching f, newest first. The time bounds become a
// key range over the time-ordered ids, so they cost nothing to filter.
func (s *Service) List(ctx context.Context, tenantID string, f Filter) (Page, error) {
	q := itemstore.Query{PK: PartitionKey(tenantID), Desc: true, Limit: f.Limit, Cursor: f.Cursor}
	if !f.From.IsZero() {
		q.SKFrom, _ = ref.IDBounds("dlv", f.From)
	}
	if !f.To.IsZero() {
		_, q.SKTo = ref.IDBounds("dlv", f.To)
	}
	out := Page{Deliveries: []Record{}}
	for {
		page, err := s.Items.Query(ctx, q)
		if err != nil {
			if errors.Is(err, itemstore.ErrInvalid) && f.Cursor == q.Cursor {
				return Page{}, problem.InvalidField("cursor", "not a cursor from this listing")
			}
			return Page{}, fmt.Errorf("list deliveries: %w", err)
		}
		for _, it := range page.Items {
			rec, err := decodeRecord(it)
			if err != nil {
				return Page{}, err
			}
			if f.match(rec) {
				out.Deliveries = append(out.Deliveries, rec)
			}
		}
		// A page filtered down still ends at the store's page: the cursor stays exact.
		if page.Next == "" || len(out.Deliveries) >= f.Limit {
			out.NextCursor = page.Next
			return out, nil
		}
		q.Cursor, q.Limit = page.Next, f.Limit-len(out.Deliveries)
	}
}
