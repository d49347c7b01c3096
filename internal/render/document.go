package render

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Meta is what a document says about itself besides its data. Every field comes from the
// request, the tenant's settings or the snapshot, never from the clock.
type Meta struct {
	TenantRef   string `json:"tenant_ref"`
	Title       string `json:"title"`
	SnapshotRef string `json:"data_snapshot_ref"`
	From        string `json:"window_from"`
	To          string `json:"window_to"`
	Branding    Branding
}

// Branding is the tenant's look (settings.Branding, copied so render needs no settings import).
type Branding struct {
	PrimaryColor string
	AccentColor  string
	TitlePrefix  string
	FooterText   string
	Organization string
}

// Document is a rendered report before it becomes a file.
type Document struct {
	ReportID        string  `json:"report_id"`
	TemplateVersion string  `json:"template_version"`
	Meta            Meta    `json:"meta"`
	Headline        []Fact  `json:"headline"`
	Tables          []Table `json:"tables"`
	Charts          []Chart `json:"charts,omitempty"`
	// Narrative is prose for the reader, each paragraph computed from the same aggregates
	// as the tables (never a claim the data does not make).
	Narrative []string `json:"narrative,omitempty"`
}

// Fact is one key figure.
type Fact struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Table is one section of rows. Cells are strings or ints.
type Table struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// AsOf is the document's timestamp: the end of its window, so it is the same every time.
func (d Document) AsOf() time.Time {
	t, _ := time.Parse(time.RFC3339, d.Meta.To)
	return t
}

// FullTitle is the title with the tenant's prefix.
func (d Document) FullTitle() string {
	if p := strings.TrimSpace(d.Meta.Branding.TitlePrefix); p != "" {
		return p + " " + d.Meta.Title
	}
	return d.Meta.Title
}

// Subtitle is "<organization> · window <from> to <to>", without the organization when the
// tenant has not named one. sep separates the parts (the PDF core fonts lack "·").
func (d Document) Subtitle(sep string) string {
	w := "window " + d.Meta.From + " to " + d.Meta.To
	if o := strings.TrimSpace(d.Meta.Branding.Organization); o != "" {
		return o + sep + w
	}
	return w
}

func cell(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int:
		return fmt.Sprint(t)
	}
	return fmt.Sprint(v)
}

// sortedCounts lists a tally by descending count, then key, for stable output.
func sortedCounts(c Counts) [][]any {
	keys := slices.Collect(maps.Keys(c))
	slices.SortFunc(keys, func(a, b string) int {
		if c[a] != c[b] {
			return cmp.Compare(c[b], c[a])
		}
		return cmp.Compare(a, b)
	})
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k, c[k]}
	}
	return rows
}

func countsTable(id, title, key string, c Counts) Table {
	return Table{ID: id, Title: title, Columns: []string{key, "events"}, Rows: sortedCounts(c)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.Sort(keys)
	return keys
}

func setList(m map[string]bool) string { return joinList(sortedKeys(m)) }

func joinList(items []string) string { return strings.Join(items, "; ") }

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func pct(n, d int) string {
	if d == 0 {
		return "0.0%"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(d))
}
