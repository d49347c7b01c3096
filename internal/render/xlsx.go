package render

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// writeXLSX writes a Summary sheet and one sheet per table. The workbook's core properties
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
