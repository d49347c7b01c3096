package render

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/go-pdf/fpdf"
)

// writePDF lays the document out on A4 with the tenant's colours, title and footer. It uses
// the PDF core fonts (never embedded, so no font file changes the bytes), sorts the catalog
// and pins the creation and modification dates to the document's as-of time.
func writePDF(d Document) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(d.AsOf())
	pdf.SetModificationDate(d.AsOf())
	pdf.SetCreator("CAVRA AISPM Report Center", true)
	pdf.SetProducer("CAVRA AISPM Report Center "+d.TemplateVersion, true)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetTitle(tr(d.FullTitle()), false)
	pr, pg, pb := rgb(d.Meta.Branding.PrimaryColor)
	ar, ag, ab := rgb(d.Meta.Branding.AccentColor)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.SetTextColor(100, 100, 100)
		pdf.CellFormat(0, 6, tr(d.Meta.Branding.FooterText), "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 6, fmt.Sprintf("Page %d", pdf.PageNo()), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFillColor(pr, pg, pb)
	pdf.SetTextColor(255, 255, 255)
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 14, tr(d.FullTitle()), "", 1, "L", true, 0, "")
	pdf.SetTextColor(40, 40, 40)
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(0, 5, tr(fmt.Sprintf("%s\nData snapshot %s - template %s",
		d.Subtitle(" - "), d.Meta.SnapshotRef, d.TemplateVersion)), "", "L", false)
	pdf.Ln(3)
	if len(d.Narrative) > 0 {
		pdf.SetFont("Helvetica", "", 10)
		for _, p := range d.Narrative {
			pdf.MultiCell(0, 5, tr(p), "", "L", false)
			pdf.Ln(2)
		}
	}
	facts := Table{Title: "Key figures", Columns: []string{"figure", "value"}}
	for _, f := range d.Headline {
		facts.Rows = append(facts.Rows, []any{f.Label, f.Value})
	}
	pdfTable(pdf, tr, facts, [3]int{pr, pg, pb}, [3]int{ar, ag, ab})
	pdfCharts(pdf, tr, d)
	for _, t := range d.Tables {
		pdfTable(pdf, tr, t, [3]int{pr, pg, pb}, [3]int{ar, ag, ab})
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	return buf.Bytes(), nil
}

func pdfTable(pdf *fpdf.Fpdf, tr func(string) string, t Table, primary, accent [3]int) {
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.SetTextColor(primary[0], primary[1], primary[2])
	pdf.CellFormat(0, 8, tr(t.Title), "", 1, "L", false, 0, "")
	w, _ := pdf.GetPageSize()
	left, _, right, _ := pdf.GetMargins()
	colW := (w - left - right) / float64(len(t.Columns))
	header := func() {
		pdf.SetFont("Helvetica", "B", 7)
		pdf.SetFillColor(accent[0], accent[1], accent[2])
		pdf.SetTextColor(255, 255, 255)
		for _, c := range t.Columns {
			pdf.CellFormat(colW, 6, fit(pdf, tr(c), colW), "1", 0, "L", true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 7)
		pdf.SetTextColor(30, 30, 30)
	}
	header()
	_, h := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	for _, r := range t.Rows {
		if pdf.GetY()+5 > h-bottom-12 {
			pdf.AddPage()
			header()
		}
		for _, v := range r {
			pdf.CellFormat(colW, 5, fit(pdf, tr(cell(v)), colW), "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
}

// fit shortens s until it fits a cell, marking the cut.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	if pdf.GetStringWidth(s) <= w-2 {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && pdf.GetStringWidth(string(r)+"...") > w-2 {
		r = r[:len(r)-1]
	}
	return string(r) + "..."
}

func rgb(hex string) (int, int, int) {
	if len(hex) != 7 {
		return 0, 0, 0
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return 0, 0, 0
	}
	return int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)
}

// pdfChartH and pdfChartFont size a chart on the page, in mm: two fit under the key
// figures on the first page.
const pdfChartH, pdfChartFont = 80.0, 2.5

// pdfCharts draws the charts one under another across the text width, each on a new page
// when it would not fit under what is already there, then restores the line settings the
// tables draw their borders with.
func pdfCharts(pdf *fpdf.Fpdf, tr func(string) string, d Document) {
	if len(d.Charts) == 0 {
		return
	}
	colors := chartColors(d.Meta.Branding)
	w, h := pdf.GetPageSize()
	left, _, right, bottom := pdf.GetMargins()
	box := chartBox{W: w - left - right, Font: pdfChartFont, Measure: func(s string, size float64, bold bool) float64 {
		pdfFont(pdf, size, bold)
		return pdf.GetStringWidth(tr(s))
	}}
	pdf.SetLineCapStyle("round")
	pdf.Ln(4)
	for _, c := range d.Charts {
		box.H = chartHeight(c, pdfChartH, pdfChartFont)
		if pdf.GetY()+box.H > h-bottom-12 {
			pdf.AddPage()
		}
		y := pdf.GetY()
		for _, m := range layoutChart(c, box, colors) {
			pdfMark(pdf, tr, m, left, y)
		}
		pdf.SetY(y + box.H + 6)
	}
	pdf.SetLineCapStyle("butt")
	pdf.SetLineWidth(0.2)
	pdf.SetDrawColor(0, 0, 0)
}

func pdfFont(pdf *fpdf.Fpdf, size float64, bold bool) {
	style := ""
	if bold {
		style = "B"
	}
	pdf.SetFont("Helvetica", style, 0)
	pdf.SetFontUnitSize(size)
}

// pdfMark draws one mark of a chart whose top left corner is at x0, y0.
func pdfMark(pdf *fpdf.Fpdf, tr func(string) string, m mark, x0, y0 float64) {
	x, y := x0+m.X, y0+m.Y
	switch m.Kind {
	case "rect":
		pdf.SetFillColor(rgb(m.Color))
		pdf.Rect(x, y, m.W, m.H, "F")
	case "line":
		pdf.SetDrawColor(rgb(m.Color))
		pdf.SetLineWidth(m.Width)
		pdf.Line(x, y, x0+m.X2, y0+m.Y2)
	case "dot":
		pdf.SetFillColor(rgb(m.Color))
		pdf.Circle(x, y, m.W, "F")
	default:
		pdfText(pdf, tr(m.Text), m, x, y)
	}
}

// pdfText writes a text mark: fpdf places text by its start, so the anchor becomes an
// offset, and a turned text turns about its anchor as in SVG.
func pdfText(pdf *fpdf.Fpdf, s string, m mark, x, y float64) {
	pdfFont(pdf, m.Size, m.Bold)
	pdf.SetTextColor(rgb(m.Color))
	off := 0.0
	switch m.Anchor {
	case "middle":
		off = pdf.GetStringWidth(s) / 2
	case "end":
		off = pdf.GetStringWidth(s)
	}
	if m.Rotate != 0 {
		pdf.TransformBegin()
		pdf.TransformRotate(m.Rotate, x, y)
		defer pdf.TransformEnd()
	}
	pdf.Text(x-off, y, s)
}
