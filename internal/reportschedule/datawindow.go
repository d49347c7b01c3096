package reportschedule

import "time"

// DataWindow is the period of data the run of a fire reports on, as UTC instants
// [from, to). The calendar kinds are the day, Monday-to-Sunday week, month or quarter
// before the one holding the fire's local date, bounded by local midnights (so a window
// across a DST change is 23 or 25 hours a day); last_hours is the N hours before the fire.
// An invalid spec gives zero instants.
func DataWindow(spec Spec, fire time.Time) (from, to time.Time) {
	loc, ok := location(spec.Timezone)
	if !ok {
		return time.Time{}, time.Time{}
	}
	dw := spec.DataWindow
	if dw.Kind == "" {
		dw = defaultDataWindow(spec.Cadence.Kind)
	}
	d := localDay(fire, loc)
	y, m, _ := civilFromDay(d)
	var lo, hi day
	switch dw.Kind {
	case PreviousDay:
		lo, hi = d-1, d
	case PreviousWeek:
		monday := d - day((weekday(d)+6)%7)
		lo, hi = monday-7, monday
	case PreviousMonth:
		py, pm := addMonths(y, m, -1)
		lo, hi = dayFromCivil(py, pm, 1), dayFromCivil(y, m, 1)
	case PreviousQuarter:
		qm := (m-1)/3*3 + 1
		py, pm := addMonths(y, qm, -3)
		lo, hi = dayFromCivil(py, pm, 1), dayFromCivil(y, qm, 1)
	case LastHours:
		return fire.Add(-time.Duration(dw.Hours) * time.Hour).UTC(), fire.UTC()
	default:
		return time.Time{}, time.Time{}
	}
	return localInstant(lo, 0, loc).UTC(), localInstant(hi, 0, loc).UTC()
}
