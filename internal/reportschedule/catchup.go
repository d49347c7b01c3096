package reportschedule

import "time"

// CatchUp is the fire to run after downtime: with run_latest_once (the default) the latest
// nominal fire in (lastNominal, now], so an outage of N fires costs one run, not N; with
// skip_missed, or when nothing was missed, ok is false.
func CatchUp(spec Spec, lastNominal, now time.Time) (time.Time, bool) {
	if spec.CatchUp == SkipMissed {
		return time.Time{}, false
	}
	return LatestFire(spec, lastNominal, now)
}

// LatestFire is the last nominal fire in (after, upTo], whatever the catch-up policy.
func LatestFire(spec Spec, after, upTo time.Time) (time.Time, bool) {
	if !upTo.After(after) {
		return time.Time{}, false
	}
	p, ok := compile(&spec)
	if !ok {
		return time.Time{}, false
	}
	return p.latestIn(after, upTo)
}

// latestIn finds the last fire in (lo, hi] by scanning forward from ever earlier points
// (an hour before hi, then two, four…), so the cost follows the fires near hi rather than
// the length of the outage.
func (p *plan) latestIn(lo, hi time.Time) (time.Time, bool) {
	for span := time.Hour; ; span *= 2 {
		from := hi.Add(-span)
		if !from.After(lo) || span > 20*365*24*time.Hour {
			from = lo
		}
		if t, ok := p.lastFireBetween(from, hi); ok {
			return t, true
		}
		if from.Equal(lo) {
			return time.Time{}, false
		}
	}
}

// lastFireBetween is the last fire in (from, to], walking forward from from.
func (p *plan) lastFireBetween(from, to time.Time) (time.Time, bool) {
	var last time.Time
	found := false
	for t, ok := p.next(from); ok && !t.After(to); t, ok = p.next(t) {
		last, found = t, true
	}
	return last, found
}
