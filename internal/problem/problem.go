// Package problem is the one error type for refusals a caller can act on. Domain code returns
// it; the API edge maps its Kind to an HTTP status and its fields to the stable JSON body
// {"error":{"code","message","field"}}. Messages never repeat the caller's input values, so a
// secret pasted into the wrong field is not echoed back or logged.
package problem

import (
	"errors"
	"fmt"
)

// Kind classifies a refusal; each maps to exactly one HTTP status.
type Kind int

const (
	Invalid            Kind = iota + 1 // 400
	Unauthenticated                    // 401
	Forbidden                          // 403
	NotFound                           // 404
	MethodNotAllowed                   // 405
	Conflict                           // 409
	PreconditionFailed                 // 412
	TooLarge                           // 413
	UnsupportedMedia                   // 415
)

// Error is a refusal with a stable code and the field it concerns ("" when none).
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// New builds a refusal.
func New(kind Kind, code, field, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Field: field}
}

// InvalidField is the common 400 for one bad field.
func InvalidField(field, message string) *Error {
	return New(Invalid, "invalid_field", field, message)
}

// As extracts a *Error from err's chain.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}
