// Package mailertest is the contract suite every mailer.Sender adapter runs unchanged.
package mailertest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
)

// Harness is one adapter plus what the suite cannot learn through the port.
type Harness struct {
	Sender mailer.Sender
	// From is a sender the adapter accepts (a verified identity where that matters).
	From string
	// Unverified is a well-formed sender the adapter must refuse with ErrRejected, or ""
	// where the adapter cannot know which senders are allowed.
	Unverified string
	// ReadBack returns the message the provider stored under id, envelope and raw bytes,
	// from wherever the adapter keeps it (an outbox file, the emulator's state).
	ReadBack func(t *testing.T, id string) mailer.Message
}

// Run runs the suite; open returns a harness for each subtest.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	t.Run("SendAndReadBack", func(t *testing.T) { testSendAndReadBack(t, open(t)) })
	t.Run("DistinctIDs", func(t *testing.T) { testDistinctIDs(t, open(t)) })
	t.Run("InvalidSenderRejected", func(t *testing.T) { testInvalidSender(t, open(t)) })
	t.Run("UnverifiedSenderRejected", func(t *testing.T) { testUnverified(t, open(t)) })
	t.Run("NoRecipientsRefused", func(t *testing.T) { testNoRecipients(t, open(t)) })
}

// Message builds a report email with a binary attachment from h.From to to.
func Message(t *testing.T, from string, to ...string) mailer.Message {
	t.Helper()
	raw, err := mailer.Build(mailer.Envelope{
		From: from, To: to, Subject: "Q3 posture report",
		TextBody: "The approved report is attached.\n", HTMLBody: "<p>The approved report is attached.</p>",
		MessageID: "contract-" + time.Now().Format("150405.000000000") + "@reports.example.com",
		Date:      time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Attachments: []mailer.Attachment{{Filename: "q3.pdf", ContentType: "application/pdf",
			Data: append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0, 1, 2, 0xfe, 0xff}, 300)...)}},
	})
	if err != nil {
		t.Fatalf("build message: %v", err)
	}
	return mailer.Message{From: from, To: to, Raw: raw}
}

func testSendAndReadBack(t *testing.T, h Harness) {
	m := Message(t, h.From, "ciso@example.org", "auditor@example.net")
	id, err := h.Sender.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id == "" {
		t.Fatal("Send returned an empty message id")
	}
	got := h.ReadBack(t, id)
	if !bytes.Equal(got.Raw, m.Raw) {
		t.Fatalf("stored raw message differs from sent (%d vs %d bytes)", len(got.Raw), len(m.Raw))
	}
	if got.From != m.From {
		t.Fatalf("stored From = %q, want %q", got.From, m.From)
	}
	for _, want := range m.To {
		if !contains(got.To, want) {
			t.Fatalf("stored recipients %v lack %s", got.To, want)
		}
	}
}

func testDistinctIDs(t *testing.T, h Harness) {
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		id, err := h.Sender.Send(context.Background(), Message(t, h.From, "ciso@example.org"))
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		if seen[id] {
			t.Fatalf("message id %s returned twice", id)
		}
		seen[id] = true
	}
}

func testInvalidSender(t *testing.T, h Harness) {
	m := Message(t, h.From, "ciso@example.org")
	m.From = "not-an-address"
	if _, err := h.Sender.Send(context.Background(), m); !errors.Is(err, mailer.ErrRejected) {
		t.Fatalf("Send from %q: err = %v, want ErrRejected", m.From, err)
	}
}

func testUnverified(t *testing.T, h Harness) {
	if h.Unverified == "" {
		t.Skip("adapter cannot tell verified senders")
	}
	m := Message(t, h.Unverified, "ciso@example.org")
	if _, err := h.Sender.Send(context.Background(), m); !errors.Is(err, mailer.ErrRejected) {
		t.Fatalf("Send from unverified %q: err = %v, want ErrRejected", m.From, err)
	}
}

func testNoRecipients(t *testing.T, h Harness) {
	m := Message(t, h.From, "ciso@example.org")
	m.To = nil
	if _, err := h.Sender.Send(context.Background(), m); !errors.Is(err, mailer.ErrRejected) {
		t.Fatalf("Send without recipients: err = %v, want ErrRejected", err)
	}
	m.To = []string{"ciso@example.org"}
	m.Raw = nil
	if _, err := h.Sender.Send(context.Background(), m); !errors.Is(err, mailer.ErrRejected) {
		t.Fatalf("Send of an empty message: err = %v, want ErrRejected", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
