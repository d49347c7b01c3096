// Package approvalgate is the port for approval-before-send: a gate is opened for one
// approval ref, waits for exactly one decision, and expires after its timeout. In AWS it is
// a Step Functions execution waiting on a callback task token; on the embedded default an
// in-process engine with the same states and timeout.
package approvalgate

import (
	"context"
	"errors"
	"time"
)

var (
	ErrNotFound = errors.New("approval gate not found")
	ErrExists   = errors.New("approval gate already open")
	// ErrDecided means a decision was already recorded; exactly one decision ever wins.
	ErrDecided = errors.New("approval gate already decided")
	ErrExpired = errors.New("approval gate expired")
	ErrInvalid = errors.New("invalid approval gate request")
)

// Status of a gate.
type Status string

const (
	Pending  Status = "pending"
	Approved Status = "approved"
	Denied   Status = "denied"
	Expired  Status = "expired"
)

// State is what Status reports.
type State struct {
	Ref    string
	Status Status
	// Output is the document passed with the decision (empty while pending or expired).
	Output []byte
}

// Gate is the full port. Inputs and decision outputs are JSON documents or empty
// (CheckDocument); anything else is ErrInvalid.
type Gate interface {
	// Open starts a gate for ref (letters, digits, '-', '_'; at most 64) that expires after timeout.
	Open(ctx context.Context, ref string, timeout time.Duration, input []byte) error
	// Decide completes the gate. Racing calls: one wins, the others get ErrDecided.
	Decide(ctx context.Context, ref string, approved bool, output []byte) error
	Status(ctx context.Context, ref string) (State, error)
}
