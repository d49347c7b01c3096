package render

import (
	"html/template"
	"strconv"
	"strings"
)

// svgW and svgH are a chart's size in the HTML page, in CSS pixels at its widest.
const svgW, svgH, svgFont = 760.0, 320.0, 12.0

// svgChart is one chart ready for the page's "chart" template.
type svgChart struct {
	Title string
	W, H  float64
	Marks []mark
}

func svgCharts(d Document) []svgChart {
	colors := chartColors(d.Meta.Branding)
	out := make([]svgChart, len(d.Charts))
	for i, c := range d.Charts {
		h := chartHeight(c, svgH, svgFont)
		out[i] = svgChart{Title: c.Title, W: svgW, H: h,
			Marks: layoutChart(c, chartBox{W: svgW, H: h, Font: svgFont, Measure: svgMeasure}, colors)}
	}
	return out
}

// svgMeasure estimates a text's width in Helvetica or Arial, the page's fonts: the browser
// measures for real, but the layout has to decide before it, from a few classes of glyph
// widths close enough to keep labels apart.
func svgMeasure(s string, size float64, bold bool) float64 {
	em := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("il.,:;'|!", r):
			em += 0.28
		case strings.ContainsRune("fjtrI-()[] /", r):
			em += 0.33
		case strings.ContainsRune("mwMW", r):
			em += 0.85
		case r >= 'A' && r <= 'Z':
			em += 0.67
		case r >= '0' && r <= '9', r == '_':
			em += 0.56
		default:
			em += 0.52
		}
	}
	if bold {
		em *= 1.07
	}
	return em * size
}

// svgNum writes a coordinate to a tenth of a pixel, which keeps the markup short.
func svgNum(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// svgTemplates draw a chart as inline SVG: presentation attributes only (no style
// attribute, no script), so the page keeps working under a strict Content-Security-Policy.
const svgTemplates = `{{define "chart"}}<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {{num .W}} {{num .H}}" width="{{num .W}}" height="{{num .H}}" role="img" aria-label="{{.Title}}" font-family="Helvetica,Arial,sans-serif"><title>{{.Title}}</title>
{{range .Marks}}{{template "mark" .}}{{end}}</svg></figure>
{{end}}{{define "mark"}}{{if eq .Kind "rect"}}<rect x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}" fill="{{.Color}}"/>
{{else if eq .Kind "line"}}<line x1="{{num .X}}" y1="{{num .Y}}" x2="{{num .X2}}" y2="{{num .Y2}}" stroke="{{.Color}}" stroke-width="{{num .Width}}" stroke-linecap="round"/>
{{else if eq .Kind "dot"}}<circle cx="{{num .X}}" cy="{{num .Y}}" r="{{num .W}}" fill="{{.Color}}"/>
{{else}}<text x="{{num .X}}" y="{{num .Y}}" font-size="{{num .Size}}" text-anchor="{{.Anchor}}" fill="{{.Color}}"{{if .Bold}} font-weight="bold"{{end}}{{if .Rotate}} transform="rotate(-{{num .Rotate}} {{num .X}} {{num .Y}})"{{end}}>{{.Text}}</text>
{{end}}{{end}}`

var svgFuncs = template.FuncMap{"num": svgNum}
