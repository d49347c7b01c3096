package render

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var (
	chartDecisions  = []string{"allow", "warn", "block", "require_approval", "allow_with_attestation", "audit_only", "not_applicable"}
	chartSeverities = []string{"none", "low", "medium", "high", "critical"}
)

// chartDoc is a board-pack-like document with every kind of chart: days of decisions, a
// tally per decision and severity, and the busiest of twelve agents. Its numbers come from
// a fixed formula, so every call gives the same document.
func chartDoc(days int) Document {
	from := time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, days)
	trend := map[string]Counts{}
	byDecision, bySeverity, byAgent := Counts{}, Counts{}, Counts{}
	var dayNames []string
	for d := range days {
		day := from.AddDate(0, 0, d).Format("2006-01-02")
		dayNames = append(dayNames, day)
		trend[day] = Counts{}
		for i, dec := range chartDecisions[:6] { // nothing was not_applicable: no series for it
			n := (d*7+i*13)%40 + 60/(i+1)
			trend[day][dec] = n
			byDecision[dec] += n
			bySeverity[chartSeverities[(d+i)%5]] += n
			byAgent[fmt.Sprintf("agent-%02d", (d*3+i*5)%12)] += n
		}
	}
	total := Chart{ID: "events", Title: "Events per day", Kind: ChartLine, XLabel: "day (UTC)", YLabel: "events",
		Categories: dayNames, Series: []Series{{Name: "events"}, {Name: "blocked"}}}
	for _, day := range dayNames {
		sum := 0
		for _, n := range trend[day] {
			sum += n
		}
		total.Series[0].Values = append(total.Series[0].Values, float64(sum))
		total.Series[1].Values = append(total.Series[1].Values, float64(trend[day]["block"]))
	}
	return Document{ReportID: "board_pack", TemplateVersion: "board_pack.v1",
		Meta: Meta{TenantRef: "tenant:acme", Title: "Board pack <Q4> & more", SnapshotRef: "snapshot:abc123",
			From: from.Format(time.RFC3339), To: to.Format(time.RFC3339),
			Branding: Branding{PrimaryColor: "#1F3A5F", AccentColor: "#D97706", TitlePrefix: "ACME",
				FooterText: "Confidential - ACME board only", Organization: "Acme Corp"}},
		Headline: []Fact{{"Events", "12345"}, {"Blocked or denied actions", "1234 (10.0%)"}, {"Agents observed", "12"}},
		Tables: []Table{
			countsTable("by_decision", "Events by decision", "decision", byDecision),
			countsTable("by_agent", "Events by agent", "agent", byAgent),
		},
		Charts: []Chart{
			trendChart(dayNames, trend, chartDecisions),
			countsChart("by_decision", "Events by decision", "decision", byDecision, chartDecisions, 0),
			countsChart("by_severity", "Events by severity", "severity", bySeverity, chartSeverities, 0),
			countsChart("top_agents", "Top agents by events", "agent", byAgent, nil, 10),
			total,
		},
	}
}

func TestChartBuilders(t *testing.T) {
	d := chartDoc(14)
	trend := d.Charts[0]
	if trend.Kind != ChartStackedBar || len(trend.Categories) != 14 || len(trend.Series) != 6 || trend.Series[5].Name != "audit_only" {
		t.Fatalf("trend chart %+v", trend)
	}
	if sev := d.Charts[2]; fmt.Sprint(sev.Categories) != fmt.Sprint(chartSeverities) {
		t.Fatalf("severities %v, want the vocabulary's order", sev.Categories)
	}
	if dec := d.Charts[1]; len(dec.Categories) != 7 || dec.Series[0].Values[6] != 0 {
		t.Fatalf("decisions %v %v: the uncounted one must be a bar of 0", dec.Categories, dec.Series[0].Values)
	}
	agents := d.Charts[3]
	if len(agents.Categories) != 10 || !slices.IsSortedFunc(agents.Series[0].Values, func(a, b float64) int { return int(b - a) }) {
		t.Fatalf("top agents %v %v", agents.Categories, agents.Series[0].Values)
	}
}

// TestDocumentsWithoutChartsKeepTheirBytes: the charts field is left out of the JSON when
// there are none, so the documents of reports that draw no chart stay as they were.
func TestDocumentsWithoutChartsKeepTheirBytes(t *testing.T) {
	d := chartDoc(3)
	d.Charts = nil
	b, err := Write(d, "json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("charts")) {
		t.Fatalf("json of a chartless document names charts: %s", b)
	}
	h, _ := Write(d, "html", nil)
	if bytes.Contains(h, []byte("<svg")) || bytes.Contains(h, []byte("svg.chart")) {
		t.Fatal("html of a chartless document has chart markup")
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		top   float64
		whole bool
		want  string
	}{
		{3, true, "[0 1 2 3]"},
		{10, true, "[0 2 4 6 8 10]"},
		{97, true, "[0 20 40 60 80 100]"},
		{1234, true, "[0 500 1000 1500]"},
		{0.7, false, "[0 0.2 0.4 0.6000000000000001 0.8]"},
		{0.7, true, "[0 1]"},
	} {
		if got := fmt.Sprint(niceTicks(c.top, 5, c.whole)); got != c.want {
			t.Errorf("niceTicks(%v) = %s, want %s", c.top, got, c.want)
		}
	}
	for _, c := range []struct {
		v, step float64
		want    string
	}{{0.6000000000000001, 0.2, "0.6"}, {1500, 500, "1500"}, {40000, 10000, "40k"}, {3e6, 1e6, "3M"}, {7, 1, "7"}} {
		if got := tickLabel(c.v, c.step); got != c.want {
			t.Errorf("tickLabel(%v, %v) = %s, want %s", c.v, c.step, got, c.want)
		}
	}
}

// TestChartLayoutFitsAndLabelsStayApart lays out charts of a week to a quarter of days and
// of long names: every text lies inside the chart, and no two category labels touch.
func TestChartLayoutFitsAndLabelsStayApart(t *testing.T) {
	box := chartBox{W: 190, H: 80, Font: 2.5, Measure: svgMeasure}
	long := Chart{Title: "Long names", Kind: ChartBar, Series: []Series{{Name: "events"}}}
	for i := range 12 {
		long.Categories = append(long.Categories, fmt.Sprintf("agent-with-a-very-long-name.prod.example-%02d", i))
		long.Series[0].Values = append(long.Series[0].Values, float64(100-i))
	}
	charts := []Chart{long}
	for _, days := range []int{7, 14, 31, 92} {
		charts = append(charts, chartDoc(days).Charts[0], chartDoc(days).Charts[4])
	}
	for _, c := range charts {
		marks := layoutChart(c, box, chartColors(Branding{}))
		var labels []mark
		for _, m := range marks {
			if m.Kind == "text" {
				checkInside(t, c, box, m)
				if slices.Contains(c.Categories, m.Text) || strings.Contains(m.Text, "...") {
					labels = append(labels, m)
				}
			}
		}
		seen := map[string]bool{}
		for _, l := range labels {
			if seen[l.Text] {
				t.Errorf("%s: two categories labelled %q", c.Title, l.Text)
			}
			seen[l.Text] = true
		}
		if len(labels) < min(len(c.Categories), 10) {
			t.Errorf("%s (%d categories): only %d labels", c.Title, len(c.Categories), len(labels))
		}
		for i := 1; i < len(labels); i++ {
			a, b := labels[i-1], labels[i]
			gap := b.X - a.X - (box.Measure(a.Text, a.Size, false)+box.Measure(b.Text, b.Size, false))/2
			if a.Rotate != 0 {
				gap = (b.X-a.X)/math.Sqrt2 - a.Size
			}
			if gap < 0 {
				t.Errorf("%s (%d categories): labels %q and %q overlap by %.2f", c.Title, len(c.Categories), a.Text, b.Text, -gap)
			}
		}
	}
}

// checkInside fails when a text mark reaches out of the box (by its anchor and turn).
func checkInside(t *testing.T, c Chart, box chartBox, m mark) {
	t.Helper()
	w := box.Measure(m.Text, m.Size, m.Bold)
	start := map[string]float64{"start": 0, "middle": -w / 2, "end": -w}[m.Anchor]
	rad := m.Rotate * math.Pi / 180
	for _, along := range []float64{start, start + w} {
		for _, up := range []float64{0, m.Size * 0.75} {
			x := m.X + along*math.Cos(rad) - up*math.Sin(rad)
			y := m.Y - along*math.Sin(rad) - up*math.Cos(rad)
			if x < -0.01 || x > box.W+0.01 || y < -0.01 || y > box.H+0.01 {
				t.Errorf("%s (%d categories): text %q reaches (%.1f, %.1f) outside %vx%v", c.Title, len(c.Categories), m.Text, x, y, box.W, box.H)
				return
			}
		}
	}
}

func TestEmptyChartSaysSo(t *testing.T) {
	c := Chart{Title: "Nothing", Kind: ChartLine, Categories: []string{"a", "b"}, Series: []Series{{Name: "x", Values: []float64{0, math.NaN()}}}}
	marks := layoutChart(c, chartBox{W: 100, H: 50, Font: 2.5, Measure: svgMeasure}, chartColors(Branding{}))
	if len(marks) != 2 || !strings.HasPrefix(marks[1].Text, "No data") {
		t.Fatalf("marks of an empty chart: %+v", marks)
	}
}

// TestChartFormatsAreByteIdentical writes a document with charts twice in every format.
func TestChartFormatsAreByteIdentical(t *testing.T) {
	for _, f := range FormatNames() {
		x, err := Write(chartDoc(14), f, []string{"html", "pdf", "xlsx", "docx"})
		if err != nil {
			t.Fatal(err)
		}
		y, err := Write(chartDoc(14), f, []string{"html", "pdf", "xlsx", "docx"})
		if err != nil {
			t.Fatal(err)
		}
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: %d vs %d bytes, not identical", f, len(x), len(y))
		}
	}
}

// TestOddChartsStillRender: charts without categories, series or numbers, with short
// series and of an unknown kind come out in every format, drawn or said to be empty.
func TestOddChartsStillRender(t *testing.T) {
	d := chartDoc(3)
	d.Charts = []Chart{
		{ID: "none", Title: "No categories", Kind: ChartBar},
		{ID: "noseries", Title: "No series", Kind: ChartLine, Categories: []string{"a"}},
		{ID: "short", Title: "Short series", Kind: ChartStackedBar, Categories: []string{"a", "b", "c"},
			Series: []Series{{Name: "x", Values: []float64{1}}, {Name: "y", Values: []float64{2, -2, 3}}}},
		{ID: "odd", Title: "Unknown kind", Kind: "pie", Categories: []string{"a"}, Series: []Series{{Name: "x", Values: []float64{0.25}}}},
	}
	for _, f := range FormatNames() {
		if b, err := Write(d, f, []string{"html", "pdf", "xlsx", "docx"}); err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", f, len(b), err)
		}
	}
}

func TestHTMLChartsAreInlineSVG(t *testing.T) {
	d := chartDoc(14)
	d.Charts[1].Title = `Decisions <script>alert(1)</script> & "more"`
	b, err := Write(d, "html", nil)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if n := strings.Count(page, "<svg "); n != len(d.Charts) {
		t.Fatalf("%d svg elements for %d charts", n, len(d.Charts))
	}
	if strings.Contains(page, "<script") || strings.Contains(page, " style=") || strings.Contains(page, "href=") {
		t.Fatal("the page has a script, a style attribute or a link: a strict CSP would break it")
	}
	for _, want := range []string{"Decisions &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;more&#34;", ">allow_with_attestation</text>",
		`fill="#1F3A5F"`, `fill="#D97706"`, ">2026-11-20</text>", ">day (UTC)</text>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestXLSXChartsReferenceTheirData: a native chart per chart on the Charts sheet, each
// series pointing at the cells that hold its numbers.
func TestXLSXChartsReferenceTheirData(t *testing.T) {
	d := chartDoc(14)
	b, err := Write(d, "xlsx", nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 4 || got[1] != "Charts" {
		t.Fatalf("sheets %v", got)
	}
	// The trend chart's data: title, header, 14 days; its first series, allow, in column B.
	if v, _ := f.GetCellValue("Charts", "A3"); v != "2026-11-14" {
		t.Errorf("Charts!A3 = %q", v)
	}
	if v, _ := f.GetCellValue("Charts", "B2"); v != "allow" {
		t.Errorf("Charts!B2 = %q", v)
	}
	if v, _ := f.GetCellValue("Charts", "B3"); v != fmt.Sprint(d.Charts[0].Series[0].Values[0]) {
		t.Errorf("Charts!B3 = %q, want %v", v, d.Charts[0].Series[0].Values[0])
	}
	var charts []string
	for _, e := range zipEntries(t, b) {
		if regexp.MustCompile(`^xl/charts/chart\d+\.xml$`).MatchString(e.Name) {
			charts = append(charts, readEntry(t, e))
		}
		if e.ModifiedDate != 0 || e.ModifiedTime != 0 {
			t.Errorf("xlsx part %s modified %v", e.Name, e.Modified)
		}
	}
	if len(charts) != len(d.Charts) {
		t.Fatalf("%d chart parts for %d charts", len(charts), len(d.Charts))
	}
	if !strings.Contains(strings.Join(charts, ""), "<f>&#39;Charts&#39;!$A$3:$A$16</f>") {
		t.Error("no chart references the trend's days")
	}
}

// TestPDFDrawsChartsBeforeTables: the charts take pages of their own before the tables,
// and the document stays the same otherwise.
func TestPDFDrawsChartsBeforeTables(t *testing.T) {
	with, err := Write(chartDoc(14), "pdf", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := chartDoc(14)
	d.Charts = nil
	without, err := Write(d, "pdf", nil)
	if err != nil {
		t.Fatal(err)
	}
	pages := func(b []byte) int { return bytes.Count(b, []byte("/Type /Page\n")) }
	if pages(with) < pages(without)+2 {
		t.Fatalf("%d pages with five charts, %d without", pages(with), pages(without))
	}
}
