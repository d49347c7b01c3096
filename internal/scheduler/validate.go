package scheduler

import (
	"encoding/json"
	"fmt"
	"time"

	// Timezones are validated and evaluated the same everywhere, including Lambda images
	// without a zoneinfo database.
	_ "time/tzdata"

	"github.com/cavra-enterprise/aispm-reports/internal/lazyregexp"
)

// MaxPayload is the largest payload (EventBridge Scheduler's limit on a target's Input).
const MaxPayload = 8192

var nameRe = lazyregexp.New(`^[0-9A-Za-z_.-]{1,64}$`)

// Validate checks a schedule the way EventBridge Scheduler would, so both adapters refuse
// the same schedules with ErrInvalid: group and name ([0-9A-Za-z_.-], 1-64), expression,
// timezone, payload (empty or JSON, at most MaxPayload bytes) and Start before End.
func Validate(s Schedule) error {
	if err := ValidateName(s.Group, s.Name); err != nil {
		return err
	}
	if _, err := ParseExpression(s.Expression); err != nil {
		return err
	}
	if _, err := Location(s.Timezone); err != nil {
		return err
	}
	if len(s.Payload) > MaxPayload {
		return fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrInvalid, len(s.Payload), MaxPayload)
	}
	if len(s.Payload) > 0 && !json.Valid(s.Payload) {
		return fmt.Errorf("%w: payload is not JSON", ErrInvalid)
	}
	if !s.Start.IsZero() && !s.End.IsZero() && !s.End.After(s.Start) {
		return fmt.Errorf("%w: end %s is not after start %s", ErrInvalid, s.End, s.Start)
	}
	return nil
}

// ValidateName checks a group and a schedule name.
func ValidateName(group, name string) error {
	if !nameRe.MatchString(group) {
		return fmt.Errorf("%w: group %q", ErrInvalid, group)
	}
	if !nameRe.MatchString(name) {
		return fmt.Errorf("%w: name %q", ErrInvalid, name)
	}
	return nil
}

// Location resolves a schedule's Timezone; empty means UTC.
func Location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, fmt.Errorf("%w: timezone %q", ErrInvalid, tz)
	}
	return loc, nil
}
