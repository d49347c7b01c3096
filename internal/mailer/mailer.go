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
