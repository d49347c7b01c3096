// Package emlmail is the embedded mailer adapter: instead of sending, it writes each
// message to an outbox directory as <timestamp>-<id>.eml, with a small JSON envelope
// sidecar, for the local portal and tests to read.
package emlmail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
)

var (
	_ mailer.Sender = (*Outbox)(nil)
	_ mailer.Finder = (*Outbox)(nil)
)

// idRE matches the ids Send issues; only those are ever turned into file names.
var idRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// stampLayout sorts lexically in time order and has no characters filesystems dislike.
const stampLayout = "20060102T150405.000000000Z"

// Outbox is a mailer.Sender that keeps every message as a file.
type Outbox struct {
	dir      string
	clk      clock.Clock
	verified []string
}

// Entry describes one stored message.
type Entry struct {
	ID      string    `json:"id"`
	From    string    `json:"from"`
	To      []string  `json:"to"`
	Created time.Time `json:"created"`
	Size    int       `json:"size"`
	// Digest is "sha256:<hex>" of the .eml bytes.
	Digest string `json:"digest"`
	// File is the .eml file name inside the outbox.
	File string `json:"file"`
	// MessageID is the message's Message-ID header without angle brackets ("" if it has none).
	MessageID string `json:"message_id,omitempty"`
}

// New opens (creating if needed) the outbox dir. verified lists the sender identities
// (addresses or domains, as SES verifies them) to accept; empty accepts any sender, so a
// local run can mirror the SES account's identities and catch an unverified sender early.
func New(dir string, clk clock.Clock, verified []string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("emlmail: create outbox: %w", err)
	}
	v := make([]string, len(verified))
	for i, s := range verified {
		v[i] = strings.ToLower(s)
	}
	return &Outbox{dir: dir, clk: clk, verified: v}, nil
}

// Send stores m and returns its id. It refuses (ErrRejected) what SES would refuse for
// good: no recipients, an unparsable address, an empty message, an unverified sender.
func (o *Outbox) Send(ctx context.Context, m mailer.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := o.check(m); err != nil {
		return "", err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("emlmail: message id: %w", err)
	}
	sum := sha256.Sum256(m.Raw)
	e := Entry{ID: hex.EncodeToString(b[:]), From: m.From, To: append([]string(nil), m.To...),
		Created: o.clk.Now().UTC(), Size: len(m.Raw), Digest: "sha256:" + hex.EncodeToString(sum[:]),
		MessageID: headerMessageID(m.Raw)}
	base := e.Created.Format(stampLayout) + "-" + e.ID
	e.File = base + ".eml"
	side, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return "", fmt.Errorf("emlmail: encode envelope: %w", err)
	}
	// The sidecar goes first: a listed .eml always has its envelope.
	if err := o.writeAtomic(base+".json", side); err != nil {
		return "", err
	}
	if err := o.writeAtomic(e.File, m.Raw); err != nil {
		return "", err
	}
	return e.ID, nil
}

func (o *Outbox) check(m mailer.Message) error {
	if len(m.To) == 0 {
		return fmt.Errorf("emlmail: no recipients: %w", mailer.ErrRejected)
	}
	if len(m.Raw) == 0 {
		return fmt.Errorf("emlmail: empty message: %w", mailer.ErrRejected)
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("emlmail: sender %q: %v: %w", m.From, err, mailer.ErrRejected)
	}
	for _, to := range m.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("emlmail: recipient %q: %v: %w", to, err, mailer.ErrRejected)
		}
	}
	if !o.isVerified(from.Address) {
		return fmt.Errorf("emlmail: sender %s is not a verified identity: %w", from.Address, mailer.ErrRejected)
	}
	return nil
}

func (o *Outbox) isVerified(addr string) bool {
	if len(o.verified) == 0 {
		return true
	}
	addr = strings.ToLower(addr)
	_, domain, _ := strings.Cut(addr, "@")
	for _, v := range o.verified {
		if v == addr || v == domain {
			return true
		}
	}
	return false
}

// writeAtomic writes one outbox file (read-only, like every stored message).
func (o *Outbox) writeAtomic(name string, b []byte) error {
	if err := atomicfile.Write(filepath.Join(o.dir, name), b, 0o444); err != nil {
		return fmt.Errorf("emlmail: %w", err)
	}
	return nil
}

// List returns the stored messages, oldest first.
func (o *Outbox) List(ctx context.Context) ([]Entry, error) {
	names, err := filepath.Glob(filepath.Join(o.dir, "*.eml"))
	if err != nil {
		return nil, fmt.Errorf("emlmail: list: %w", err)
	}
	sort.Strings(names)
	out := make([]Entry, 0, len(names))
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e, err := readEntry(strings.TrimSuffix(n, ".eml") + ".json")
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Read returns the message stored under id; a missing id wraps fs.ErrNotExist.
func (o *Outbox) Read(ctx context.Context, id string) (mailer.Message, Entry, error) {
	if err := ctx.Err(); err != nil {
		return mailer.Message{}, Entry{}, err
	}
	if !idRE.MatchString(id) {
		return mailer.Message{}, Entry{}, fmt.Errorf("emlmail: message %q: %w", id, fs.ErrNotExist)
	}
	names, err := filepath.Glob(filepath.Join(o.dir, "*-"+id+".eml"))
	if err != nil || len(names) != 1 {
		return mailer.Message{}, Entry{}, fmt.Errorf("emlmail: message %s: %w", id, fs.ErrNotExist)
	}
	e, err := readEntry(strings.TrimSuffix(names[0], ".eml") + ".json")
	if err != nil {
		return mailer.Message{}, Entry{}, err
	}
	raw, err := os.ReadFile(names[0])
	if err != nil {
		return mailer.Message{}, Entry{}, fmt.Errorf("emlmail: read %s: %w", e.File, err)
	}
	return mailer.Message{From: e.From, To: e.To, Raw: raw}, e, nil
}

// Find looks the outbox over for a message with messageID. It reads every envelope, which
// is fine for what it is for: reconciling the rare attempt whose worker died mid-send.
func (o *Outbox) Find(ctx context.Context, messageID string) (string, bool, error) {
	want := bareMessageID(messageID)
	if want == "" {
		return "", false, nil
	}
	list, err := o.List(ctx)
	if err != nil {
		return "", false, err
	}
	for _, e := range list {
		if e.MessageID == want {
			return e.ID, true, nil
		}
	}
	return "", false, nil
}

func headerMessageID(raw []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return bareMessageID(msg.Header.Get("Message-ID"))
}

func bareMessageID(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}

func readEntry(path string) (Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Entry{}, fmt.Errorf("emlmail: read envelope: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("emlmail: decode envelope %s: %w", filepath.Base(path), err)
	}
	return e, nil
}
