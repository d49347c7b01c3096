package render

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
)

// Format describes one output format.
type Format struct {
	Name        string
	Ext         string
	ContentType string
	write       func(Document) ([]byte, error)
}

// Formats lists every format, by name.
var formats = map[string]Format{
	"markdown": {"markdown", "md", "text/markdown; charset=utf-8", writeMarkdown},
	"json":     {"json", "json", "application/json", writeJSON},
	"csv":      {"csv", "csv", "text/csv; charset=utf-8", writeCSV},
	"jsonl":    {"jsonl", "jsonl", "application/x-ndjson", writeJSONL},
	"html":     {"html", "html", "text/html; charset=utf-8", writeHTML},
	"pdf":      {"pdf", "pdf", "application/pdf", writePDF},
	"xlsx":     {"xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", writeXLSX},
	"docx":     {"docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", writeDOCX},
}

// FormatNames lists the format names the renderer knows, zip included.
func FormatNames() []string {
	names := append(sortedKeys(formats), "zip")
	slices.Sort(names)
	return names
}

// LookupFormat returns a format by name; zip packages the other formats of the report.
func LookupFormat(name string) (Format, bool) {
	if name == "zip" {
		return Format{Name: "zip", Ext: "zip", ContentType: "application/zip"}, true
	}
	f, ok := formats[name]
	return f, ok
}

// Write renders doc in format name. zipOf names the formats a zip carries.
func Write(doc Document, name string, zipOf []string) ([]byte, error) {
	if name == "zip" {
		return writeZip(doc, zipOf)
	}
	f, ok := formats[name]
	if !ok {
		return nil, fmt.Errorf("render: unknown format %q", name)
	}
	return f.write(doc)
}

func writeMarkdown(d Document) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(d.FullTitle()))
	fmt.Fprintf(&b, "%s · data snapshot `%s` · template `%s`\n\n", mdEscape(d.Subtitle(" · ")), d.Meta.SnapshotRef, d.TemplateVersion)
	for _, p := range d.Narrative {
		fmt.Fprintf(&b, "%s\n\n", mdEscape(p))
	}
	b.WriteString("| Figure | Value |\n|---|---|\n")
	for _, f := range d.Headline {
		fmt.Fprintf(&b, "| %s | %s |\n", mdEscape(f.Label), mdEscape(f.Value))
	}
	for _, t := range d.Tables {
		fmt.Fprintf(&b, "\n## %s\n\n| %s |\n|%s\n", mdEscape(t.Title), strings.Join(t.Columns, " | "), strings.Repeat("---|", len(t.Columns)))
		for _, r := range t.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = mdEscape(cell(v))
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	if f := d.Meta.Branding.FooterText; f != "" {
		fmt.Fprintf(&b, "\n---\n%s\n", mdEscape(f))
	}
	return []byte(b.String()), nil
}

func mdEscape(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

// writeJSON is the document's canonical JSON: sorted keys, so the bytes are stable.
func writeJSON(d Document) ([]byte, error) {
	b, err := canonjson.Marshal(d)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeCSV writes every table in long form (table, row, column, value), one rectangular
// file that spreadsheet and GRC tools load without knowing the report's layout.
func writeCSV(d Document) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"report_id", "data_snapshot_ref", "table", "row", "column", "value"})
	for i, f := range d.Headline {
		_ = w.Write([]string{d.ReportID, d.Meta.SnapshotRef, "headline", fmt.Sprint(i + 1), f.Label, f.Value})
	}
	for _, t := range d.Tables {
		for i, r := range t.Rows {
			for j, v := range r {
				_ = w.Write([]string{d.ReportID, d.Meta.SnapshotRef, t.ID, fmt.Sprint(i + 1), t.Columns[j], cell(v)})
			}
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// writeJSONL writes one canonical JSON object per table row.
func writeJSONL(d Document) ([]byte, error) {
	var buf bytes.Buffer
	for _, t := range d.Tables {
		for _, r := range t.Rows {
			obj := map[string]any{"report_id": d.ReportID, "data_snapshot_ref": d.Meta.SnapshotRef, "table": t.ID}
			for j, v := range r {
				obj[t.Columns[j]] = v
			}
			b, err := canonjson.Marshal(obj)
			if err != nil {
				return nil, err
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes(), nil
}

var htmlPage = template.Must(template.Must(template.New("report").Funcs(template.FuncMap{"cell": cell}).Funcs(svgFuncs).Parse(svgTemplates)).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Doc.FullTitle}}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222}
header{background:{{.Primary}};color:#fff;padding:1em}h2{color:{{.Primary}}}
table{border-collapse:collapse;margin-bottom:1.5em}th{background:{{.Accent}};color:#fff;text-align:left}
td,th{border:1px solid #ccc;padding:4px 8px}footer{margin-top:2em;color:#666;font-size:0.9em}{{if .Charts}}
figure.chart{margin:0 0 1.5em}svg.chart{max-width:100%;height:auto}{{end}}</style></head>
<body><header><h1>{{.Doc.FullTitle}}</h1><p>{{.Doc.Subtitle " · "}}</p></header>{{range .Doc.Narrative}}<p>{{.}}</p>{{end}}
<p>Data snapshot <code>{{.Doc.Meta.SnapshotRef}}</code> · template <code>{{.Doc.TemplateVersion}}</code></p>
<table><tr><th>Figure</th><th>Value</th></tr>{{range .Doc.Headline}}<tr><td>{{.Label}}</td><td>{{.Value}}</td></tr>{{end}}</table>
{{range .Charts}}{{template "chart" .}}{{end}}{{range .Doc.Tables}}<h2>{{.Title}}</h2><table><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{cell .}}</td>{{end}}</tr>
{{end}}</table>
{{end}}<footer>{{.Doc.Meta.Branding.FooterText}}</footer></body></html>
`))

func writeHTML(d Document) ([]byte, error) {
	var buf bytes.Buffer
	err := htmlPage.Execute(&buf, map[string]any{
		"Doc": d, "Primary": template.CSS(d.Meta.Branding.PrimaryColor), "Accent": template.CSS(d.Meta.Branding.AccentColor),
		"Charts": svgCharts(d),
	})
	return buf.Bytes(), err
}

// writeZip packages the report in the given formats. Entries carry the document's as-of
// time, not the time of writing, so the archive's bytes are stable.
func writeZip(d Document, names []string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		f, ok := formats[n]
		if !ok {
			return nil, fmt.Errorf("render: zip of unknown format %q", n)
		}
		body, err := f.write(d)
		if err != nil {
			return nil, err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: d.ReportID + "." + f.Ext, Method: zip.Deflate, Modified: d.AsOf()})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
