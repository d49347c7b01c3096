package reportschedule

import "time"

// Action is what the runner does with a fire.
type Action string

const (
	ActionRun             Action = "run"
	ActionDefer           Action = "defer"
	ActionSkip            Action = "skip"
	ActionRequireApproval Action = "require_manual_approval"
)

// Decision is the verdict of the blackout windows on one fire. WindowRef names the window
// that decided; Until is when a deferred run goes ahead (also set for an approval reached
// by deferring) and zero otherwise.
type Decision struct {
	Action    Action    `json:"action"`
	WindowRef string    `json:"window_ref,omitempty"`
	Until     time.Time `json:"until,omitzero"`
}

// maxDeferHops bounds the chain of windows a deferred run is pushed through; windows that
// cover all of time would otherwise defer it forever.
const maxDeferHops = 64

// Evaluate applies the blackout windows to a fire. Absolute windows compare instants;
// weekly windows read the fire's wall clock in the schedule's zone. When several windows
// hold the fire, the strictest wins: skip, then require_manual_approval, then defer. A
// deferred run moves to the end of its window, and on through any window holding that
// instant; landing in a skip window skips it, landing in an approval window needs approval.
// A chain longer than maxDeferHops is skipped. An invalid spec runs nothing: skip.
func Evaluate(spec Spec, fire time.Time) Decision {
	p, ok := compile(&spec)
	if !ok {
		return Decision{Action: ActionSkip}
	}
	return p.evaluate(fire)
}

func (p *plan) evaluate(fire time.Time) Decision {
	w := p.strictestAt(fire)
	if w == nil {
		return Decision{Action: ActionRun}
	}
	switch w.behavior {
	case BehaviorSkip:
		return Decision{Action: ActionSkip, WindowRef: w.ref}
	case BehaviorRequireApproval:
		return Decision{Action: ActionRequireApproval, WindowRef: w.ref}
	}
	first := w.ref
	at := fire
	for range maxDeferHops {
		at = p.latestDeferEnd(at)
		switch w := p.strictestAt(at); {
		case w == nil:
			return Decision{Action: ActionDefer, WindowRef: first, Until: at}
		case w.behavior == BehaviorSkip:
			return Decision{Action: ActionSkip, WindowRef: w.ref}
		case w.behavior == BehaviorRequireApproval:
			return Decision{Action: ActionRequireApproval, WindowRef: w.ref, Until: at}
		}
	}
	return Decision{Action: ActionSkip, WindowRef: first}
}

func strictness(b Behavior) int {
	switch b {
	case BehaviorSkip:
		return 3
	case BehaviorRequireApproval:
		return 2
	}
	return 1
}

// strictestAt is the strictest window holding t (the first listed among equals), or nil.
func (p *plan) strictestAt(t time.Time) *window {
	var best *window
	for i := range p.windows {
		w := &p.windows[i]
		if w.holds(t, p.loc) && (best == nil || strictness(w.behavior) > strictness(best.behavior)) {
			best = w
		}
	}
	return best
}

// latestDeferEnd is the latest end of the defer windows holding t; all hold t here.
func (p *plan) latestDeferEnd(t time.Time) time.Time {
	end := t
	for i := range p.windows {
		w := &p.windows[i]
		if w.holds(t, p.loc) {
			if e := w.endAfter(t, p.loc); e.After(end) {
				end = e
			}
		}
	}
	if !end.After(t) {
		// Only a degenerate DST case gets here; move on rather than stand still.
		end = t.Add(time.Minute)
	}
	return end
}

func (w *window) holds(t time.Time, loc *time.Location) bool {
	if w.absolute {
		return !t.Before(w.from) && t.Before(w.to)
	}
	lt := t.In(loc)
	wd := int(lt.Weekday())
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	start, end := w.startMin*60, w.endMin*60
	if !w.wrapsOver {
		return w.onDay(wd) && sec >= start && sec < end
	}
	return (w.onDay(wd) && sec >= start) || (w.onDay((wd+6)%7) && sec < end)
}

func (w *window) onDay(wd int) bool { return w.dows&(1<<wd) != 0 }

// endAfter is the end of the occurrence of the window that holds t.
func (w *window) endAfter(t time.Time, loc *time.Location) time.Time {
	if w.absolute {
		return w.to
	}
	d := localDay(t, loc)
	lt := t.In(loc)
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	if w.wrapsOver && sec >= w.startMin*60 {
		d++
	}
	return localInstant(d, w.endMin, loc)
}
