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
	facts := Table{Title: "Key figures", Columns: []string{"figure", "value"}}
	for _, f := range d.Headline {
		facts.Rows = append(facts.Rows, []any{f.Label, f.Value})
	}
	for _, t := range append([]Table{facts}, d.Tables...) {
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
