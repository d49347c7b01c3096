// Package mailer is the port for outbound email as raw MIME (SES v2 in AWS, an outbox of
// .eml files on the embedded default). Building the MIME is the domain's job; see Build.
package mailer

import (
	"context"
	"errors"
)

var (
	// ErrRejected is a permanent refusal (unverified sender, bad address): do not retry.
	ErrRejected = errors.New("message rejected")
	// ErrThrottled is a transient refusal: retry with backoff.
	ErrThrottled = errors.New("mail provider throttled")
	// ErrAuth means the provider refused our credentials.
	ErrAuth = errors.New("mail provider authentication failed")
)

// Message is one raw MIME message with its envelope.
type Message struct {
	From string
	To   []string
	Raw  []byte
}

// Sender sends one message and returns the provider's message id.
type Sender interface {
	Send(ctx context.Context, m Message) (string, error)
}

// Finder is a provider that can say whether it accepted a message, by the Message-ID the
// domain put in it. After a worker died between handing a message over and recording the
// outcome, asking turns "unknown" into a fact. The embedded outbox can be asked; SES cannot
// (it assigns its own ids and offers no lookup), so there the outcome stays unknown.
type Finder interface {
	// Find reports whether a message with messageID (with or without its angle brackets)
	// was accepted, and the provider's id for it.
	Find(ctx context.Context, messageID string) (providerID string, found bool, err error)
}
