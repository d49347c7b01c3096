package reportschedule

import (
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// A civil date is counted in days since 1970-01-01 (day 0, a Thursday). Working in day
// numbers keeps date arithmetic free of time.Location look-ups; instants are only made
// at the end, by localInstant.
type day = int32

func dayFromCivil(y, m, d int) day {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

func civilFromDay(z day) (y, m, d int) {
	n := int(z) + 719468
	era := n / 146097
	if n < 0 && n%146097 != 0 {
		era--
	}
	doe := n - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekday is 0 for Sunday through 6 for Saturday, as time.Weekday.
func weekday(z day) int {
	w := (int(z) + 4) % 7
	if w < 0 {
		w += 7
	}
	return w
}

func daysInMonth(y, m int) int {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// addMonths moves (y, m) by n months.
func addMonths(y, m, n int) (int, int) {
	idx := y*12 + (m - 1) + n
	return idx / 12, idx%12 + 1
}

func localDay(t time.Time, loc *time.Location) day {
	y, m, d := t.In(loc).Date()
	return dayFromCivil(y, int(m), d)
}

// parseDate reads a strict "YYYY-MM-DD".
func parseDate(s string) (day, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, false
	}
	return dayFromCivil(y, m, d), true
}

// parseClock reads a strict "HH:MM" as minutes of the day; "24:00" only when allowMidnight.
func parseClock(s string, allowMidnight bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, ok1 := digits(s[0:2])
	m, ok2 := digits(s[3:5])
	switch {
	case !ok1 || !ok2 || m > 59:
		return 0, false
	case h == 24 && m == 0 && allowMidnight:
		return 24 * 60, true
	case h > 23:
		return 0, false
	}
	return h*60 + m, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

var dayNames = [7]string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// parseDay reads an upper-case three-letter day name as a weekday number.
func parseDay(s string) (int, bool) {
	for i, n := range dayNames {
		if s == n {
			return i, true
		}
	}
	return 0, false
}

var locations sync.Map // zone name → *time.Location

// location resolves an IANA zone once per process: loading from the embedded database
// costs far more than computing a fire, and the benchmark target is thousands of schedules.
func location(tz string) (*time.Location, bool) {
	if tz == "" {
		return nil, false
	}
	if l, ok := locations.Load(tz); ok {
		return l.(*time.Location), true
	}
	loc, err := scheduler.Location(tz)
	if err != nil {
		return nil, false
	}
	locations.Store(tz, loc)
	return loc, true
}

func offsetAt(unix int64, loc *time.Location) int64 {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return int64(off)
}

// localInstant is the instant of a local wall-clock time (minute of day, may be 1440 for
// the next midnight) on date d. A wall-clock time that occurs twice when clocks go back
// resolves to its first occurrence; one that does not exist because clocks went forward
// resolves to the first valid instant after the gap (02:30 in a 02:00→03:00 jump is 03:00).
func localInstant(d day, minute int, loc *time.Location) time.Time {
	return localInstantSec(d, minute*60, loc)
}

// localInstantSec is localInstant for a second of the day.
func localInstantSec(d day, second int, loc *time.Location) time.Time {
	wall := int64(d)*86400 + int64(second)
	// Offsets a day either side bracket any real transition: no zone changes twice in 48h.
	before, after := offsetAt(wall-86400, loc), offsetAt(wall+86400, loc)
	first, found := int64(0), false
	for _, off := range [2]int64{before, after} {
		if t := wall - off; offsetAt(t, loc) == off && (!found || t < first) {
			first, found = t, true
		}
	}
	if found {
		return time.Unix(first, 0).In(loc)
	}
	// In a gap: read with the earlier offset the wall clock lands past the transition,
	// whose start is the first valid instant.
	start, _ := time.Unix(wall-before, 0).In(loc).ZoneBounds()
	if start.IsZero() {
		return time.Unix(wall-before, 0).In(loc)
	}
	return start.In(loc)
}
