package render

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// writeDOCX writes the report as a WordprocessingML package: the title block, the key
// figures and every table as Word tables, the footer text on every page. The parts go in a
// fixed order, each stamped with the document's as-of time, so the bytes are stable.
func writeDOCX(d Document) ([]byte, error) {
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", docxContentTypes},
		{"_rels/.rels", docxPackageRels},
		{"docProps/core.xml", docxCore(d)},
		{"word/_rels/document.xml.rels", docxDocumentRels},
		{"word/document.xml", docxDocument(d)},
		{"word/styles.xml", docxStyles(d.Meta.Branding)},
		{"word/footer1.xml", docxFooter(d.Meta.Branding.FooterText)},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: d.AsOf()})
		if err != nil {
			return nil, fmt.Errorf("render docx: %w", err)
		}
		if _, err := w.Write([]byte(xml.Header + p.body)); err != nil {
			return nil, fmt.Errorf("render docx: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("render docx: %w", err)
	}
	return buf.Bytes(), nil
}

const (
	nsW   = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
	nsR   = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	nsRel = `xmlns="http://schemas.openxmlformats.org/package/2006/relationships"`
	ooxml = "application/vnd.openxmlformats-"
	rels  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
)

const docxContentTypes = `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="` + ooxml + `package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/xml"/>` +
	`<Override PartName="/word/document.xml" ContentType="` + ooxml + `officedocument.wordprocessingml.document.main+xml"/>` +
	`<Override PartName="/word/styles.xml" ContentType="` + ooxml + `officedocument.wordprocessingml.styles+xml"/>` +
	`<Override PartName="/word/footer1.xml" ContentType="` + ooxml + `officedocument.wordprocessingml.footer+xml"/>` +
	`<Override PartName="/docProps/core.xml" ContentType="` + ooxml + `package.core-properties+xml"/></Types>`

const docxPackageRels = `<Relationships ` + nsRel + `>` +
	`<Relationship Id="rId1" Type="` + rels + `officeDocument" Target="word/document.xml"/>` +
	`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`

const docxDocumentRels = `<Relationships ` + nsRel + `>` +
	`<Relationship Id="rId1" Type="` + rels + `styles" Target="styles.xml"/>` +
	`<Relationship Id="rId2" Type="` + rels + `footer" Target="footer1.xml"/></Relationships>`

// docxCore is the package's core properties, dated by the document, never the clock.
func docxCore(d Document) string {
	at := d.AsOf().UTC().Format("2006-01-02T15:04:05Z")
	return `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
		`xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<dc:title>` + esc(d.FullTitle()) + `</dc:title><dc:creator>CAVRA AISPM Report Center</dc:creator>` +
		`<cp:lastModifiedBy>CAVRA AISPM Report Center</cp:lastModifiedBy>` +
		`<dc:identifier>` + esc(d.Meta.SnapshotRef) + `</dc:identifier><cp:version>` + esc(d.TemplateVersion) + `</cp:version>` +
		`<dcterms:created xsi:type="dcterms:W3CDTF">` + at + `</dcterms:created>` +
		`<dcterms:modified xsi:type="dcterms:W3CDTF">` + at + `</dcterms:modified></cp:coreProperties>`
}

// A4 with 2 cm margins, in twentieths of a point; docxTextW is the width tables fill.
const (
	docxPage  = `<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="567" w:footer="567" w:gutter="0"/>`
	docxTextW = 11906 - 2*1134
)

func docxDocument(d Document) string {
	var b strings.Builder
	b.WriteString(`<w:document ` + nsW + ` ` + nsR + `><w:body>`)
	b.WriteString(docxPara("Title", d.FullTitle()))
	b.WriteString(docxPara("Subtitle", d.Subtitle(" · ")))
	b.WriteString(docxPara("Meta", "Data snapshot "+d.Meta.SnapshotRef+" · template "+d.TemplateVersion))
	for _, p := range d.Narrative {
		b.WriteString(docxPara("Normal", p))
	}
	facts := Table{Title: "Key figures", Columns: []string{"Figure", "Value"}}
	for _, f := range d.Headline {
		facts.Rows = append(facts.Rows, []any{f.Label, f.Value})
	}
	header := docxHeaderFill(d.Meta.Branding)
	for _, t := range append([]Table{facts}, d.Tables...) {
		b.WriteString(docxPara("Heading1", t.Title))
		b.WriteString(docxTable(t, header))
	}
	// Word wants the body to end on a paragraph, not a table: the footer text closes it.
	b.WriteString(docxPara("Closing", d.Meta.Branding.FooterText))
	b.WriteString(`<w:sectPr><w:footerReference w:type="default" r:id="rId2"/>` + docxPage + `</w:sectPr></w:body></w:document>`)
	return b.String()
}

func docxPara(style, text string) string {
	return `<w:p><w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>` + docxRun("", text) + `</w:p>`
}

func docxRun(props, text string) string {
	if props != "" {
		props = `<w:rPr>` + props + `</w:rPr>`
	}
	return `<w:r>` + props + `<w:t xml:space="preserve">` + esc(text) + `</w:t></w:r>`
}

// docxTable writes a table across the text width: columns sized by their text, borders on
// every cell, a shaded header row that Word repeats on each page the table runs over, and
// numbers set right. A row shorter than the header is padded so every row has every column.
func docxTable(t Table, headerFill string) string {
	if len(t.Columns) == 0 {
		return docxPara("Meta", "No columns.")
	}
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:tblBorders>`)
	for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
		b.WriteString(`<w:` + side + ` w:val="single" w:sz="4" w:space="0" w:color="BFBFBF"/>`)
	}
	b.WriteString(`</w:tblBorders><w:tblCellMar><w:top w:w="30" w:type="dxa"/><w:left w:w="80" w:type="dxa"/><w:bottom w:w="30" w:type="dxa"/><w:right w:w="80" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tblGrid>`)
	colW := docxColumnWidths(t)
	for _, w := range colW {
		fmt.Fprintf(&b, `<w:gridCol w:w="%d"/>`, w)
	}
	b.WriteString(`</w:tblGrid><w:tr><w:trPr><w:tblHeader/></w:trPr>`)
	for j, c := range t.Columns {
		b.WriteString(docxCell(colW[j], `<w:shd w:val="clear" w:color="auto" w:fill="`+headerFill+`"/>`, "",
			docxRun(`<w:b/><w:color w:val="FFFFFF"/>`, strings.ReplaceAll(c, "_", "_\u200b"))))
	}
	b.WriteString(`</w:tr>`)
	for _, r := range t.Rows {
		b.WriteString(`<w:tr>`)
		for j := range t.Columns {
			var v any = ""
			if j < len(r) {
				v = r[j]
			}
			b.WriteString(docxCell(colW[j], "", docxAlign(v), docxRun("", cell(v))))
		}
		b.WriteString(`</w:tr>`)
	}
	b.WriteString(`</w:tbl>`)
	return b.String()
}

// docxColumnWidths shares the text width among the columns by their longest text (a cell,
// or a word of the header, which may break after its underscores; counted between 6 and 30
// characters), so names and timestamps get the room and a column of small numbers does not.
func docxColumnWidths(t Table) []int {
	weight := make([]int, len(t.Columns))
	total := 0
	for j, c := range t.Columns {
		n := 0
		for _, w := range strings.Split(c, "_") {
			n = max(n, len([]rune(w))+3) // bold and followed by the underscore
		}
		for _, r := range t.Rows {
			if j < len(r) {
				n = max(n, len([]rune(cell(r[j]))))
			}
		}
		weight[j] = min(max(n, 6), 30)
		total += weight[j]
	}
	for j := range weight {
		weight[j] = docxTextW * weight[j] / total
	}
	return weight
}

func docxCell(w int, cellProps, paraProps, runs string) string {
	return fmt.Sprintf(`<w:tc><w:tcPr><w:tcW w:w="%d" w:type="dxa"/>%s</w:tcPr><w:p><w:pPr><w:pStyle w:val="TableText"/>%s</w:pPr>%s</w:p></w:tc>`,
		w, cellProps, paraProps, runs)
}

func docxAlign(v any) string {
	if _, ok := v.(int); ok {
		return `<w:jc w:val="right"/>`
	}
	return ""
}

// docxHeaderFill shades table headers in the tenant's accent colour, as the HTML and PDF do.
func docxHeaderFill(b Branding) string {
	if validHex(b.AccentColor) {
		return strings.ToUpper(b.AccentColor[1:])
	}
	return docxPrimary(b)
}

// docxPrimary is the tenant's primary colour, or the palette's first when it has none.
func docxPrimary(b Branding) string { return chartColors(b)[0][1:] }

// docxFooter holds the tenant's footer text left and the page number right.
func docxFooter(text string) string {
	return `<w:ftr ` + nsW + `><w:p><w:pPr><w:pStyle w:val="Footer"/></w:pPr>` + docxRun("", text) +
		`<w:r><w:tab/><w:t xml:space="preserve">Page </w:t></w:r><w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p></w:ftr>`
}

// docxStyles defines the few styles the document uses: Arial like the other formats, the
// title and headings in the tenant's primary colour.
func docxStyles(b Branding) string {
	primary := docxPrimary(b)
	style := func(id, name, ppr, rpr string) string {
		return `<w:style w:type="paragraph" w:styleId="` + id + `"><w:name w:val="` + name + `"/><w:basedOn w:val="Normal"/>` +
			`<w:qFormat/><w:pPr>` + ppr + `</w:pPr><w:rPr>` + rpr + `</w:rPr></w:style>`
	}
	return `<w:styles ` + nsW + `><w:docDefaults><w:rPrDefault><w:rPr>` +
		`<w:rFonts w:ascii="Arial" w:hAnsi="Arial" w:eastAsia="Arial" w:cs="Arial"/><w:sz w:val="20"/><w:szCs w:val="20"/><w:lang w:val="en-US"/>` +
		`</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
		`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
		style("Title", "Title", `<w:spacing w:after="60"/>`, `<w:b/><w:color w:val="`+primary+`"/><w:sz w:val="40"/><w:szCs w:val="40"/>`) +
		style("Subtitle", "Subtitle", `<w:spacing w:after="60"/>`, `<w:color w:val="404040"/><w:sz w:val="24"/><w:szCs w:val="24"/>`) +
		style("Meta", "Report Metadata", `<w:spacing w:after="240"/>`, `<w:color w:val="666666"/><w:sz w:val="17"/><w:szCs w:val="17"/>`) +
		style("Heading1", "heading 1", `<w:keepNext/><w:spacing w:before="280" w:after="100"/><w:outlineLvl w:val="0"/>`,
			`<w:b/><w:color w:val="`+primary+`"/><w:sz w:val="26"/><w:szCs w:val="26"/>`) +
		style("Closing", "Report Closing", `<w:spacing w:before="360"/>`, `<w:i/><w:color w:val="666666"/><w:sz w:val="17"/><w:szCs w:val="17"/>`) +
		style("TableText", "Table Text", `<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>`, `<w:sz w:val="16"/><w:szCs w:val="16"/>`) +
		style("Footer", "footer", fmt.Sprintf(`<w:tabs><w:tab w:val="right" w:pos="%d"/></w:tabs><w:spacing w:after="0"/>`, docxTextW),
			`<w:i/><w:color w:val="666666"/><w:sz w:val="16"/><w:szCs w:val="16"/>`) +
		`</w:styles>`
}

// esc escapes text for XML character data and attribute values alike.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
