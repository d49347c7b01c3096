package mailer

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// ErrInvalidEnvelope is a message Build refuses to produce (a bad address, a header value
// with CR or LF, a missing Message-ID or Date).
var ErrInvalidEnvelope = errors.New("invalid mail envelope")

// Envelope is everything a message says. MessageID and Date come from the caller so the
// same envelope always builds the same bytes (and so the same digest in evidence).
type Envelope struct {
	From        string
	To          []string
	Subject     string
	TextBody    string
	HTMLBody    string
	Attachments []Attachment
	// MessageID is "id@domain", with or without angle brackets.
	MessageID string
	Date      time.Time
}

// Attachment is one file, sent base64-encoded.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// maxHeaderLine is RFC 5322's hard limit on a line, without the CRLF.
const maxHeaderLine = 998

// Build renders env as an RFC 5322 multipart/mixed message with CRLF line endings: the
// text (and HTML, as multipart/alternative) body in quoted-printable, then each attachment
// in base64. Any header value carrying CR or LF is refused, never stripped, since that is
// how header injection arrives.
func Build(env Envelope) ([]byte, error) {
	hdr, err := headers(env)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	// A deterministic boundary keeps Build reproducible. "=_" cannot occur in base64 or
	// quoted-printable output, so the boundary never collides with a part's content.
	if err := mw.SetBoundary(boundary("mixed", env)); err != nil {
		return nil, fmt.Errorf("mailer: build: %w", err)
	}
	if err := writeBodies(mw, env); err != nil {
		return nil, err
	}
	for _, a := range env.Attachments {
		if err := writeAttachment(mw, a); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mailer: build: %w", err)
	}
	hdr = append(hdr, header{"Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()})})
	var out bytes.Buffer
	for _, h := range hdr {
		out.WriteString(h.name + ": " + h.value + "\r\n")
	}
	out.WriteString("\r\n")
	out.Write(body.Bytes())
	return out.Bytes(), nil
}

type header struct{ name, value string }

func headers(env Envelope) ([]header, error) {
	from, err := address("From", env.From)
	if err != nil {
		return nil, err
	}
	if len(env.To) == 0 {
		return nil, fmt.Errorf("mailer: build: no recipients: %w", ErrInvalidEnvelope)
	}
	to := make([]string, 0, len(env.To))
	for _, a := range env.To {
		s, err := address("To", a)
		if err != nil {
			return nil, err
		}
		to = append(to, s)
	}
	id, err := messageID(env.MessageID)
	if err != nil {
		return nil, err
	}
	if env.Date.IsZero() {
		return nil, fmt.Errorf("mailer: build: no Date: %w", ErrInvalidEnvelope)
	}
	if err := checkValue("Subject", env.Subject); err != nil {
		return nil, err
	}
	hs := []header{
		{"From", from},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", env.Subject)},
		{"Date", env.Date.Format(time.RFC1123Z)},
		{"Message-ID", id},
		{"MIME-Version", "1.0"},
	}
	for _, h := range hs {
		if len(h.name)+2+len(h.value) > maxHeaderLine {
			return nil, fmt.Errorf("mailer: build: %s header longer than %d bytes: %w", h.name, maxHeaderLine, ErrInvalidEnvelope)
		}
	}
	return hs, nil
}

// address parses one mailbox and renders it canonically (display names encoded).
func address(field, s string) (string, error) {
	if err := checkValue(field, s); err != nil {
		return "", err
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("mailer: build: %s address %q: %v: %w", field, s, err, ErrInvalidEnvelope)
	}
	return a.String(), nil
}

func messageID(id string) (string, error) {
	if err := checkValue("Message-ID", id); err != nil {
		return "", err
	}
	bare := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	local, domain, ok := strings.Cut(bare, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(bare, "<> \t\"") {
		return "", fmt.Errorf("mailer: build: Message-ID %q is not id@domain: %w", id, ErrInvalidEnvelope)
	}
	return "<" + bare + ">", nil
}

// checkValue refuses CR and LF (header injection) and other control characters.
func checkValue(field, v string) error {
	for _, c := range v {
		if c == '\r' || c == '\n' {
			return fmt.Errorf("mailer: build: %s contains CR or LF: %w", field, ErrInvalidEnvelope)
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("mailer: build: %s contains a control character: %w", field, ErrInvalidEnvelope)
		}
	}
	return nil
}

// writeBodies writes the text part, or text and HTML as multipart/alternative.
func writeBodies(mw *multipart.Writer, env Envelope) error {
	if env.HTMLBody == "" {
		return writeText(mw, "text/plain", env.TextBody)
	}
	var alt bytes.Buffer
	aw := multipart.NewWriter(&alt)
	if err := aw.SetBoundary(boundary("alt", env)); err != nil {
		return fmt.Errorf("mailer: build: %w", err)
	}
	if err := writeText(aw, "text/plain", env.TextBody); err != nil {
		return err
	}
	if err := writeText(aw, "text/html", env.HTMLBody); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("mailer: build: %w", err)
	}
	w, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type": {mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": aw.Boundary()})},
	})
	if err != nil {
		return fmt.Errorf("mailer: build: %w", err)
	}
	_, err = w.Write(alt.Bytes())
	return err
}

func writeText(mw *multipart.Writer, mediaType, text string) error {
	w, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mediaType + "; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return fmt.Errorf("mailer: build: %w", err)
	}
	// Normalise to LF first: the quoted-printable writer turns each LF into CRLF.
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ReplaceAll(text, "\r\n", "\n"))); err != nil {
		return fmt.Errorf("mailer: build: %s body: %w", mediaType, err)
	}
	return qp.Close()
}

func writeAttachment(mw *multipart.Writer, a Attachment) error {
	if a.Filename == "" {
		return fmt.Errorf("mailer: build: attachment without a filename: %w", ErrInvalidEnvelope)
	}
	if err := checkValue("attachment filename", a.Filename); err != nil {
		return err
	}
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if err := checkValue("attachment content type", ct); err != nil {
		return err
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("mailer: build: attachment %q content type %q: %v: %w", a.Filename, ct, err, ErrInvalidEnvelope)
	}
	params["name"] = a.Filename
	ctype := mime.FormatMediaType(mediaType, params)
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename})
	if ctype == "" || disp == "" { // FormatMediaType's signal for something it cannot encode
		return fmt.Errorf("mailer: build: attachment %q headers cannot be encoded: %w", a.Filename, ErrInvalidEnvelope)
	}
	w, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {ctype},
		"Content-Disposition":       {disp},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return fmt.Errorf("mailer: build: %w", err)
	}
	_, err = w.Write(base64Lines(a.Data))
	return err
}

// base64Lines encodes b in lines of 76 characters, each ending in CRLF (RFC 2045).
func base64Lines(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc + "\r\n")
	return out.Bytes()
}

func boundary(kind string, env Envelope) string {
	h := sha256.Sum256([]byte(kind + "\x00" + env.MessageID + "\x00" + env.Date.String()))
	return "=_" + kind + "_" + hex.EncodeToString(h[:12])
}
