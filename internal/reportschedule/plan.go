package reportschedule

import (
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// plan is a spec read once into the shape the fire computations need. Every exported
// function compiles one; an invalid spec has no plan and so never fires.
type plan struct {
	loc      *time.Location
	kind     CadenceKind
	minute   int   // local minute of day for the calendar kinds
	dows     uint8 // weekly: bit weekday
	dom      int   // monthly, quarterly
	lastBD   bool
	bdo      bool
	holidays []day // sorted
	start    day
	end      day
	hasStart bool
	hasEnd   bool
	expr     scheduler.Expression // cron, rate
	anchor   time.Time            // rate: fires are anchor + k·every, k ≥ 1
	every    time.Duration
	windows  []window
}

// window is a compiled blackout window.
type window struct {
	ref       string
	behavior  Behavior
	absolute  bool
	from, to  time.Time // absolute
	dows      uint8     // weekly
	startMin  int
	endMin    int // may be 1440
	wrapsOver bool
}

// compile reads spec without judging limits; it fails on anything it cannot interpret.
func compile(spec *Spec) (*plan, bool) {
	loc, ok := location(spec.Timezone)
	if !ok {
		return nil, false
	}
	p := &plan{loc: loc, kind: spec.Cadence.Kind, bdo: spec.BusinessDaysOnly}
	if !p.readDates(spec) || !p.readCadence(&spec.Cadence) {
		return nil, false
	}
	p.windows = make([]window, 0, len(spec.BlackoutWindows))
	for _, w := range spec.BlackoutWindows {
		cw, ok := compileWindow(w)
		if !ok {
			return nil, false
		}
		p.windows = append(p.windows, cw)
	}
	return p, true
}

func (p *plan) readDates(spec *Spec) bool {
	p.holidays = make([]day, 0, len(spec.Holidays))
	for _, h := range spec.Holidays {
		d, ok := parseDate(h)
		if !ok {
			return false
		}
		p.holidays = append(p.holidays, d)
	}
	slices.Sort(p.holidays)
	var ok bool
	if spec.StartDate != "" {
		if p.start, ok = parseDate(spec.StartDate); !ok {
			return false
		}
		p.hasStart = true
	}
	if spec.EndDate != "" {
		if p.end, ok = parseDate(spec.EndDate); !ok {
			return false
		}
		p.hasEnd = true
	}
	return true
}

func (p *plan) readCadence(c *Cadence) bool {
	switch c.Kind {
	case Daily, Weekly, Monthly, Quarterly:
		m, ok := parseClock(c.Time, false)
		p.minute = m
		if !ok {
			return false
		}
	case Cron, Rate:
		return p.readExpression(c)
	default:
		return false
	}
	switch c.Kind {
	case Weekly:
		mask, ok := dayMask(c.Days)
		p.dows = mask
		return ok && mask != 0
	case Monthly, Quarterly:
		p.dom, p.lastBD = c.DayOfMonth, c.LastBusinessDay
		return p.lastBD != (p.dom != 0) && p.dom >= 0 && p.dom <= 31
	}
	return true
}

func (p *plan) readExpression(c *Cadence) bool {
	if !strings.HasPrefix(c.Expression, string(c.Kind)+"(") {
		return false
	}
	e, err := scheduler.ParseExpression(c.Expression)
	if err != nil {
		return false
	}
	p.expr = e
	if c.Kind == Rate {
		p.anchor = time.Unix(0, 0).In(p.loc)
		if p.hasStart {
			p.anchor = localInstant(p.start, 0, p.loc)
		}
		next, _ := e.Next(p.anchor, p.anchor, p.loc)
		p.every = next.Sub(p.anchor)
	}
	return true
}

func dayMask(days []string) (uint8, bool) {
	var mask uint8
	for _, s := range days {
		wd, ok := parseDay(s)
		if !ok {
			return 0, false
		}
		mask |= 1 << wd
	}
	return mask, true
}

func compileWindow(w BlackoutWindow) (window, bool) {
	cw := window{ref: w.WindowRef, behavior: w.Behavior}
	if cw.behavior == "" {
		cw.behavior = BehaviorDefer
	}
	switch cw.behavior {
	case BehaviorDefer, BehaviorSkip, BehaviorRequireApproval:
	default:
		return cw, false
	}
	switch w.Kind {
	case AbsoluteWindow:
		from, err1 := time.Parse(time.RFC3339, w.StartsAt)
		to, err2 := time.Parse(time.RFC3339, w.EndsAt)
		cw.absolute, cw.from, cw.to = true, from, to
		return cw, err1 == nil && err2 == nil && to.After(from)
	case WeeklyWindow:
		var ok1, ok2, ok3 bool
		cw.dows, ok1 = dayMask(w.Days)
		cw.startMin, ok2 = parseClock(w.Start, false)
		cw.endMin, ok3 = parseClock(w.End, true)
		cw.wrapsOver = cw.endMin < cw.startMin
		return cw, ok1 && ok2 && ok3 && cw.dows != 0 && cw.startMin != cw.endMin
	}
	return cw, false
}

func (p *plan) isHoliday(d day) bool {
	_, found := slices.BinarySearch(p.holidays, d)
	return found
}

// isBusinessDay is Monday to Friday and not a holiday.
func (p *plan) isBusinessDay(d day) bool {
	wd := weekday(d)
	return wd != 0 && wd != 6 && !p.isHoliday(d)
}

func (p *plan) inBounds(d day) bool {
	return (!p.hasStart || d >= p.start) && (!p.hasEnd || d <= p.end)
}
