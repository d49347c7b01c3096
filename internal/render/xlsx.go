package render

import (
	"bytes"
	"cmp"
	"fmt"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"
)

// writeXLSX writes a Summary sheet, a Charts sheet when the document has charts, and one
// sheet per table. The workbook's core properties
// take the document's as-of time (excelize would otherwise keep its template's date), and no
// stream writer is used: excelize writes streamed sheets in map order.
func writeXLSX(d Document) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	asOf := d.AsOf().UTC().Format("2006-01-02T15:04:05Z")
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: d.FullTitle(), Creator: "CAVRA AISPM Report Center", LastModifiedBy: "CAVRA AISPM Report Center",
		Created: asOf, Modified: asOf, Version: d.TemplateVersion, Identifier: d.Meta.SnapshotRef,
	}); err != nil {
		return nil, err
	}
	if err := f.SetSheetName("Sheet1", "Summary"); err != nil {
		return nil, err
	}
	head, err := f.NewStyle(&excelize.Style{
		Font: &excelize.Font{Bold: true, Color: strings.TrimPrefix(d.Meta.Branding.PrimaryColor, "#")},
	})
	if err != nil {
		return nil, err
	}
	summary := [][]any{{d.FullTitle()}, {"Organization", d.Meta.Branding.Organization}, {"Window from", d.Meta.From},
		{"Window to", d.Meta.To}, {"Data snapshot", d.Meta.SnapshotRef}, {"Template", d.TemplateVersion}, {}}
	for _, fct := range d.Headline {
		summary = append(summary, []any{fct.Label, fct.Value})
	}
	if d.Meta.Branding.FooterText != "" {
		summary = append(summary, []any{}, []any{d.Meta.Branding.FooterText})
	}
	if err := writeRows(f, "Summary", summary); err != nil {
		return nil, err
	}
	_ = f.SetCellStyle("Summary", "A1", "A1", head)
	if err := xlsxCharts(f, d, head); err != nil {
		return nil, err
	}
	for i, t := range d.Tables {
		name := sheetName(i, t.ID)
		if _, err := f.NewSheet(name); err != nil {
			return nil, err
		}
		cols := make([]any, len(t.Columns))
		for j, c := range t.Columns {
			cols[j] = c
		}
		if err := writeRows(f, name, append([][]any{cols}, t.Rows...)); err != nil {
			return nil, err
		}
		end, _ := excelize.CoordinatesToCellName(len(t.Columns), 1)
		_ = f.SetCellStyle(name, "A1", end, head)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render xlsx: %w", err)
	}
	return buf.Bytes(), nil
}

func writeRows(f *excelize.File, sheet string, rows [][]any) error {
	for i, r := range rows {
		if len(r) == 0 {
			continue
		}
		addr, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, addr, &r); err != nil {
			return err
		}
	}
	return nil
}

// sheetName is unique and within Excel's 31 characters.
func sheetName(i int, id string) string {
	n := fmt.Sprintf("%d %s", i+1, id)
	if len(n) > 31 {
		n = n[:31]
	}
	return n
}

// xlsxChartTypes maps a chart kind to Excel's: bars stand upright, as in the other formats.
var xlsxChartTypes = map[ChartKind]excelize.ChartType{ChartBar: excelize.Col, ChartStackedBar: excelize.ColStacked, ChartLine: excelize.Line}

// xlsxChartW and xlsxChartH are a chart's size in pixels, and xlsxChartSpan the rows it spans at
// Excel's default row height, so the next chart's data starts under it.
const xlsxChartW, xlsxChartH, xlsxChartSpan = 720, 320, 17

// xlsxCharts writes each chart's data as a small table on the Charts sheet (title, header
// row, one row per category) and a native chart beside it that references those cells, so
// the reader can edit or re-chart the numbers in Excel.
func xlsxCharts(f *excelize.File, d Document, head int) error {
	if len(d.Charts) == 0 {
		return nil
	}
	const sheet = "Charts"
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	chartCol := 3
	for _, c := range d.Charts {
		chartCol = max(chartCol, len(c.Series)+3)
	}
	colors := chartColors(d.Meta.Branding)
	row := 1
	for _, c := range d.Charts {
		if err := writeRows(f, sheet, xlsxChartRows(c, row)); err != nil {
			return err
		}
		_ = f.SetCellStyle(sheet, cellName(1, row), cellName(1, row), head)
		if len(c.Categories) == 0 || len(c.Series) == 0 {
			row += xlsxChartSpan
			continue // excelize refuses a chart without a series or a cell range
		}
		if err := f.AddChart(sheet, cellName(chartCol, row), xlsxChart(c, sheet, row, colors)); err != nil {
			return err
		}
		row += max(len(c.Categories)+3, xlsxChartSpan)
	}
	// A sheet's first drawing makes excelize declare the image types in [Content_Types].xml
	// in map order; sorted, that part's bytes stay the same from one write to the next.
	defaults := f.ContentTypes.Defaults
	sort.SliceStable(defaults, func(i, j int) bool { return defaults[i].Extension < defaults[j].Extension })
	return nil
}

// xlsxChartRows lays out a chart's data from row at, with empty rows above it so writeRows
// places it there.
func xlsxChartRows(c Chart, at int) [][]any {
	rows := make([][]any, at-1, at+len(c.Categories)+1)
	header := []any{cmp.Or(c.XLabel, "category")}
	for _, s := range c.Series {
		header = append(header, s.Name)
	}
	rows = append(rows, []any{c.Title}, header)
	for i, cat := range c.Categories {
		r := []any{cat}
		for s := range c.Series {
			r = append(r, c.value(s, i))
		}
		rows = append(rows, r)
	}
	return rows
}

// xlsxChart is the native chart of c, whose data xlsxChartRows wrote from row at.
func xlsxChart(c Chart, sheet string, at int, colors []string) *excelize.Chart {
	first, last := at+2, at+1+len(c.Categories)
	ref := func(col, from, to int) string {
		return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheet, colName(col), from, colName(col), to)
	}
	typ, ok := xlsxChartTypes[c.Kind]
	if !ok {
		typ = excelize.Col // as layoutChart draws an unknown kind
	}
	varyColors := false // one colour per series, as in the other formats, not per bar
	ch := &excelize.Chart{
		Type:       typ,
		VaryColors: &varyColors,
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: c.Title}}},
		Legend:     excelize.ChartLegend{Position: "bottom"},
		Dimension:  excelize.ChartDimension{Width: xlsxChartW, Height: xlsxChartH},
		XAxis:      excelize.ChartAxis{Title: axisTitle(c.XLabel), Font: axisFont},
		// No value axis title: excelize sets it horizontal, where it squeezes the plot; the
		// data's header row names the series instead.
		YAxis: excelize.ChartAxis{MajorGridLines: true, Font: axisFont},
	}
	if len(c.Series) < 2 {
		ch.Legend.Position = "none"
	}
	for s := range c.Series {
		color := colors[s%len(colors)]
		ch.Series = append(ch.Series, excelize.ChartSeries{
			Name:       fmt.Sprintf("'%s'!$%s$%d", sheet, colName(s+2), at+1),
			Categories: ref(1, first, last),
			Values:     ref(s+2, first, last),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}},
			Line:       excelize.LineOptions{Width: 2},
		})
	}
	return ch
}

var axisFont = excelize.Font{Color: "595959", Size: 9}

func axisTitle(s string) excelize.ChartTitle {
	if s == "" {
		return excelize.ChartTitle{}
	}
	return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: s}}}
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

func colName(col int) string {
	n, _ := excelize.ColumnNumberToName(col)
	return n
}
