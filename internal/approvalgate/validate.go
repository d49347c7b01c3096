package approvalgate

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/lazyregexp"
)

// MaxTimeout is the longest gate (a Step Functions standard execution's limit, one year).
const MaxTimeout = 365 * 24 * time.Hour

var refRe = lazyregexp.New(`^[A-Za-z0-9_-]{1,64}$`)

// CheckRef returns ErrInvalid unless ref is 1-64 letters, digits, '-' or '_'.
func CheckRef(ref string) error {
	if !refRe.MatchString(ref) {
		return fmt.Errorf("%w: ref %q", ErrInvalid, ref)
	}
	return nil
}

// CheckOpen checks an Open request the same way for every adapter: the ref, a timeout of
// one second to MaxTimeout (Step Functions counts whole seconds), and the input document.
func CheckOpen(ref string, timeout time.Duration, input []byte) error {
	if err := CheckRef(ref); err != nil {
		return err
	}
	if timeout < time.Second || timeout > MaxTimeout {
		return fmt.Errorf("%w: timeout %s outside 1s..%s", ErrInvalid, timeout, MaxTimeout)
	}
	return CheckDocument(input)
}

// CheckDocument accepts an empty document or one JSON value: inputs and decision outputs
// travel through Step Functions, which carries JSON only.
func CheckDocument(doc []byte) error {
	if len(doc) > 0 && !json.Valid(doc) {
		return fmt.Errorf("%w: document is not JSON", ErrInvalid)
	}
	return nil
}
