package render

import (
	"math"
	"strconv"
)

// mark is one drawing primitive of a laid-out chart, in the chart's own units, y pointing
// down (as in SVG and fpdf). rect: X, Y, W, H filled; line: X, Y to X2, Y2 stroked at
// Width; dot: a filled circle of radius W at X, Y; text: Text with its baseline at Y,
// anchored at X by Anchor (start, middle, end), turned Rotate degrees counter-clockwise.
type mark struct {
	Kind         string
	X, Y, X2, Y2 float64
	W, H, Width  float64
	Color        string
	Text, Anchor string
	Size, Rotate float64
	Bold         bool
}

// chartBox is where a chart is laid out: its size, its base text size and how wide a text
// is at a size, all in the units of the format that draws it.
type chartBox struct {
	W, H, Font float64
	Measure    func(s string, size float64, bold bool) float64
}

// The chart's own greys: gridlines stay faint so the data reads first.
const (
	inkText = "#333333"
	inkMute = "#666666"
	inkGrid = "#E2E2E2"
	inkAxis = "#8C8C8C"
)

// chartPlot lays out one chart: the title and legend on top, the value axis on the left,
// the category labels under the plot, then the bars or lines inside it.
type chartPlot struct {
	c                        Chart
	box                      chartBox
	colors                   []string
	marks                    []mark
	left, top, right, bottom float64
	ticks                    []float64
	labels                   []string
	labelStep                int
	rotated                  bool
}

// chartHeight is how tall a chart is drawn: full, or just the title and a line saying there
// is nothing to draw, so an empty chart does not leave a blank half page.
func chartHeight(c Chart, full, font float64) float64 {
	if c.top() == 0 {
		return font * 4.5
	}
	return full
}

// layoutChart turns a chart into marks that fill box.
func layoutChart(c Chart, box chartBox, colors []string) []mark {
	p := &chartPlot{c: c, box: box, colors: colors, right: box.W - box.Font*0.5}
	p.top = p.title()
	if c.top() == 0 {
		p.text(0, p.top+box.Font*1.2, "No data for this chart in the window.", box.Font, "start", inkMute)
		return p.marks
	}
	if len(c.Series) > 1 {
		p.top = p.legend(p.top)
	}
	p.top += box.Font * 1.2 // room for the top tick label and the value over the tallest bar
	p.ticks = niceTicks(c.top(), 5, c.integral())
	p.left = p.valueAxisWidth()
	p.bottom = box.H - p.categoryAxisHeight()
	p.grid()
	p.data()
	p.axes()
	return p.marks
}

func (p *chartPlot) text(x, y float64, s string, size float64, anchor, color string) *mark {
	p.marks = append(p.marks, mark{Kind: "text", X: x, Y: y, Text: s, Size: size, Anchor: anchor, Color: color})
	return &p.marks[len(p.marks)-1]
}

func (p *chartPlot) line(x, y, x2, y2, width float64, color string) {
	p.marks = append(p.marks, mark{Kind: "line", X: x, Y: y, X2: x2, Y2: y2, Width: width, Color: color})
}

func (p *chartPlot) rect(x, y, w, h float64, color string) {
	p.marks = append(p.marks, mark{Kind: "rect", X: x, Y: y, W: w, H: h, Color: color})
}

func (p *chartPlot) color(s int) string { return p.colors[s%len(p.colors)] }

// title writes the title and returns where the space under it starts.
func (p *chartPlot) title() float64 {
	f := p.box.Font
	p.text(0, f*1.25, p.c.Title, f*1.25, "start", p.colors[0]).Bold = true
	return f * 1.9
}

// legend lays out one swatch and name per series in rows under the title, wrapping when a
// row is full, and returns where the space under it starts.
func (p *chartPlot) legend(y float64) float64 {
	f := p.box.Font
	size, sw := f*0.9, f*0.8
	x := 0.0
	y += f * 0.3
	for s, ser := range p.c.Series {
		w := sw + f*0.4 + p.box.Measure(ser.Name, size, false) + f*1.2
		if x > 0 && x+w > p.box.W {
			x, y = 0, y+f*1.4
		}
		p.rect(x, y, sw, sw, p.color(s))
		p.text(x+sw+f*0.4, y+sw*0.9, ser.Name, size, "start", inkText)
		x += w
	}
	return y + f*1.4
}

// valueAxisWidth is the room left of the plot: the tick labels and the axis title.
func (p *chartPlot) valueAxisWidth() float64 {
	f := p.box.Font
	w := 0.0
	for _, t := range p.ticks {
		w = max(w, p.box.Measure(tickLabel(t, p.ticks[1]), f*0.85, false))
	}
	if p.c.YLabel != "" {
		w += f * 1.6
	}
	return w + f*0.6
}

// categoryAxisHeight decides how the category labels fit and returns the room they and the
// axis title take under the plot. Labels that fit their slot stand upright; the others turn
// 45 degrees, every labelStep-th only when even turned they would touch, shortened when
// they would take more than a third of the chart, and the plot moves right when the first
// one would run off the left edge.
func (p *chartPlot) categoryAxisHeight() float64 {
	f := p.box.Font
	size := f * 0.85
	p.labels, p.labelStep = make([]string, len(p.c.Categories)), 1
	widest := 0.0
	for i, c := range p.c.Categories {
		p.labels[i] = p.shorten(c, size, p.box.W/3)
		widest = max(widest, p.box.Measure(p.labels[i], size, false))
	}
	h := 0.0
	if p.c.XLabel != "" {
		h = f * 1.6
	}
	if widest <= p.slot()-f*0.4 {
		return h + f*1.6
	}
	p.rotated = true
	limit := p.box.H / 3 / math.Sqrt2
	if widest > limit {
		for i := range p.labels {
			p.labels[i] = p.shorten(p.labels[i], size, limit)
		}
		widest = limit
	}
	if first := p.box.Measure(p.labels[0], size, false) / math.Sqrt2; first > p.left+p.slot()/2 {
		p.left = first - p.slot()/2 + f*0.3
	}
	p.labelStep = int(math.Ceil(size * 1.3 / (p.slot() / math.Sqrt2)))
	return h + (widest+size)/math.Sqrt2 + f*0.8
}

func (p *chartPlot) slot() float64 { return (p.right - p.left) / float64(len(p.c.Categories)) }

// shorten cuts the middle out of s, marking the cut, until it is at most w wide: names that
// share a prefix (agent-prod-01, agent-prod-02) tend to differ at the end.
func (p *chartPlot) shorten(s string, size, w float64) string {
	if p.box.Measure(s, size, false) <= w {
		return s
	}
	r := []rune(s)
	for keep := len(r) - 1; keep > 1; keep-- {
		cut := string(r[:(keep+1)/2]) + "..." + string(r[len(r)-keep/2:])
		if p.box.Measure(cut, size, false) <= w {
			return cut
		}
	}
	return string(r[:1]) + "..."
}

func (p *chartPlot) y(v float64) float64 {
	return p.bottom - v/p.ticks[len(p.ticks)-1]*(p.bottom-p.top)
}

// grid draws a faint line and a label at every tick of the value axis.
func (p *chartPlot) grid() {
	f := p.box.Font
	for _, t := range p.ticks[1:] {
		p.line(p.left, p.y(t), p.right, p.y(t), f*0.06, inkGrid)
	}
	for _, t := range p.ticks {
		p.text(p.left-f*0.4, p.y(t)+f*0.3, tickLabel(t, p.ticks[1]), f*0.85, "end", inkMute)
	}
	if p.c.YLabel != "" {
		p.text(f*0.9, (p.top+p.bottom)/2, p.c.YLabel, f*0.9, "middle", inkMute).Rotate = 90
	}
}

// axes draws the baseline, the category ticks and labels and the axis title.
func (p *chartPlot) axes() {
	f := p.box.Font
	size := f * 0.85
	p.line(p.left, p.bottom, p.right, p.bottom, f*0.08, inkAxis)
	for i := 0; i < len(p.labels); i += p.labelStep {
		x := p.left + p.slot()*(float64(i)+0.5)
		p.line(x, p.bottom, x, p.bottom+f*0.3, f*0.06, inkAxis)
		if p.rotated {
			p.text(x+size*0.3, p.bottom+f*0.7, p.labels[i], size, "end", inkText).Rotate = 45
		} else {
			p.text(x, p.bottom+f*1.3, p.labels[i], size, "middle", inkText)
		}
	}
	if p.c.XLabel != "" {
		p.text((p.left+p.right)/2, p.box.H-f*0.3, p.c.XLabel, f*0.9, "middle", inkMute)
	}
}

func (p *chartPlot) data() {
	switch p.c.Kind {
	case ChartLine:
		p.lines()
	case ChartStackedBar:
		p.stacks()
	default:
		p.bars()
	}
}

// bars draws the series side by side in each category, with the value over each bar of a
// one-series chart when it fits.
func (p *chartPlot) bars() {
	group := p.slot() * 0.75
	w := group / float64(len(p.c.Series))
	for i := range p.c.Categories {
		x := p.left + p.slot()*float64(i) + (p.slot()-group)/2
		for s := range p.c.Series {
			v := p.c.value(s, i)
			p.rect(x+w*float64(s), p.y(v), w*0.92, p.bottom-p.y(v), p.color(s))
		}
		if len(p.c.Series) == 1 {
			p.valueLabel(i, p.c.value(0, i))
		}
	}
}

// stacks draws one bar per category, the series stacked in order, its total on top.
func (p *chartPlot) stacks() {
	w := p.slot() * 0.7
	for i := range p.c.Categories {
		x := p.left + p.slot()*float64(i) + (p.slot()-w)/2
		sum := 0.0
		for s := range p.c.Series {
			v := p.c.value(s, i)
			if v > 0 {
				p.rect(x, p.y(sum+v), w, p.y(sum)-p.y(sum+v), p.color(s))
			}
			sum += v
		}
		p.valueLabel(i, sum)
	}
}

// valueLabel writes v over category i's bar, when its slot is wide enough to hold it.
func (p *chartPlot) valueLabel(i int, v float64) {
	f := p.box.Font
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if v == 0 || p.box.Measure(s, f*0.8, false) > p.slot()*0.95 {
		return
	}
	p.text(p.left+p.slot()*(float64(i)+0.5), p.y(v)-f*0.3, s, f*0.8, "middle", inkText)
}

// lines draws each series as a line through its values, with a dot on each value while the
// dots stay apart.
func (p *chartPlot) lines() {
	f := p.box.Font
	for s := range p.c.Series {
		prevX, prevY := 0.0, 0.0
		for i := range p.c.Categories {
			x, y := p.left+p.slot()*(float64(i)+0.5), p.y(p.c.value(s, i))
			if i > 0 {
				p.line(prevX, prevY, x, y, f*0.14, p.color(s))
			}
			if p.slot() > f*0.8 {
				p.marks = append(p.marks, mark{Kind: "dot", X: x, Y: y, W: f * 0.22, Color: p.color(s)})
			}
			prevX, prevY = x, y
		}
	}
}

// niceTicks divides [0, top] into about n steps of 1, 2 or 5 times a power of ten, never
// finer than 1 for whole-number data, the last tick at or over top.
func niceTicks(top float64, n int, whole bool) []float64 {
	raw := top / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	if whole {
		step = max(step, 1)
	}
	ticks := []float64{0}
	for i := 1; ticks[len(ticks)-1] < top; i++ {
		ticks = append(ticks, float64(i)*step)
	}
	return ticks
}

// tickLabel writes a tick with as many decimals as the step needs, in thousands (k) or
// millions (M) when the step is that coarse.
func tickLabel(v, step float64) string {
	unit := ""
	switch {
	case step >= 1e6:
		v, step, unit = v/1e6, step/1e6, "M"
	case step >= 1e3:
		v, step, unit = v/1e3, step/1e3, "k"
	}
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	return strconv.FormatFloat(v, 'f', decimals, 64) + unit
}
