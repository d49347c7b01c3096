package itemstore

import "time"

// LiveAt reports whether the item counts as present at now: no TTL, or a TTL still ahead.
func (it Item) LiveAt(now time.Time) bool {
	return it.ExpiresAt.IsZero() || now.Before(it.ExpiresAt)
}

// ExpirySeconds is how both families store a TTL: Unix seconds, rounded up so an item never
// expires early (DynamoDB's TTL unit). 0 means no TTL.
func ExpirySeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return max(sec, 1) // 0 would read as "never"; anything before 1970 has long expired
}

// ExpiryFromSeconds reads a stored TTL back; 0 is no TTL.
func ExpiryFromSeconds(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
