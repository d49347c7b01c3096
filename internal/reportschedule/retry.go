package reportschedule

import "time"

// RetryAt is when a failed run is tried again. attempt is the number of attempts already
// made (1 after the first failure); the delay is base (none), base×attempt (linear) or
// base×2^(attempt-1) (exponential), capped at CapSeconds. ok is false once the policy's
// MaxAttempts retries are used up: the run goes to the dead letter.
func RetryAt(policy RetryPolicy, attempt int, failedAt time.Time) (time.Time, bool) {
	policy = normalizeRetry(policy)
	attempt = max(attempt, 1)
	if attempt > policy.MaxAttempts {
		return time.Time{}, false
	}
	base, limit := int64(max(policy.BaseSeconds, 0)), int64(max(policy.CapSeconds, 0))
	delay := base
	switch policy.Backoff {
	case BackoffLinear:
		delay = base * int64(attempt)
	case BackoffExponential:
		// Shifting past the cap is pointless and, unchecked, would overflow.
		for i := 1; i < attempt && delay < limit; i++ {
			delay *= 2
		}
	}
	delay = min(delay, limit)
	return failedAt.Add(time.Duration(delay) * time.Second), true
}
