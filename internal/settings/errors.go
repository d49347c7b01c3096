package settings

import "errors"

// errNotARef is deliberately vague about the value: it may be a pasted secret.
var errNotARef = errors.New("must be a secret reference (a Secrets Manager or SSM parameter ARN, or a CAVRA_REPORT_*_REF name), never a secret value")
