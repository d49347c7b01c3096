package mailer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func sampleEnvelope() Envelope {
	pdf := bytes.Repeat([]byte("%PDF-1.7 \x00\x01\xff binary "), 40)
	return Envelope{
		From:      "Report Center <reports@example.com>",
		To:        []string{"ciso@example.org", "Zoë Auditor <zoe@example.net>"},
		Subject:   "Q3 posture report – approved",
		TextBody:  "Hello,\nthe report is attached.\nLine with = sign and a very long tail " + strings.Repeat("x", 120) + "\n",
		HTMLBody:  "<p>Hello, the report is <b>attached</b>.</p>",
		MessageID: "r-42.1@reports.example.com",
		Date:      time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC),
		Attachments: []Attachment{
			{Filename: "q3-report.pdf", ContentType: "application/pdf", Data: pdf},
			{Filename: "rapport é.csv", ContentType: "text/csv; charset=utf-8", Data: []byte("a,b\r\n1,2\r\n")},
		},
	}
}

func TestBuildParsesBack(t *testing.T) {
	env := sampleEnvelope()
	raw, err := Build(env)
	if err != nil {
		t.Fatal(err)
	}
	if n, crlf := bytes.Count(raw, []byte("\n")), bytes.Count(raw, []byte("\r\n")); n != crlf {
		t.Fatalf("%d LF but %d CRLF: bare line feeds in output", n, crlf)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	checkHeaders(t, msg, env)

	parts := readParts(t, msg.Header.Get("Content-Type"), msg.Body)
	if len(parts) != 3 {
		t.Fatalf("got %d top-level parts, want body + 2 attachments", len(parts))
	}
	alt := readParts(t, parts[0].Header.Get("Content-Type"), bytes.NewReader(parts[0].body))
	if len(alt) != 2 {
		t.Fatalf("alternative has %d parts, want text and html", len(alt))
	}
	if got := decodeQP(t, alt[0].body); got != strings.ReplaceAll(env.TextBody, "\n", "\r\n") {
		t.Fatalf("text body = %q", got)
	}
	if got := decodeQP(t, alt[1].body); got != env.HTMLBody {
		t.Fatalf("html body = %q", got)
	}
	for i, a := range env.Attachments {
		p := parts[i+1]
		_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] != a.Filename {
			t.Fatalf("attachment %d disposition %q (%v), want filename %q", i, p.Header.Get("Content-Disposition"), err, a.Filename)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "base64" {
			t.Fatalf("attachment %d not base64", i)
		}
		data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(p.body), "\r\n", ""))
		if err != nil || !bytes.Equal(data, a.Data) {
			t.Fatalf("attachment %d bytes differ (err %v)", i, err)
		}
		for _, line := range strings.Split(string(p.body), "\r\n") {
			if len(line) > 76 {
				t.Fatalf("attachment %d has a %d-character line", i, len(line))
			}
		}
	}
}

func checkHeaders(t *testing.T, msg *mail.Message, env Envelope) {
	t.Helper()
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "reports@example.com" || from[0].Name != "Report Center" {
		t.Fatalf("From = %v (%v)", from, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "Zoë Auditor" || to[1].Address != "zoe@example.net" {
		t.Fatalf("To = %v (%v)", to, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != env.Subject {
		t.Fatalf("Subject = %q (%v), want %q", subject, err, env.Subject)
	}
	date, err := msg.Header.Date()
	if err != nil || !date.Equal(env.Date) {
		t.Fatalf("Date = %v (%v), want %v", date, err, env.Date)
	}
	if got := msg.Header.Get("Message-ID"); got != "<r-42.1@reports.example.com>" {
		t.Fatalf("Message-ID = %q", got)
	}
	if msg.Header.Get("MIME-Version") != "1.0" {
		t.Fatal("no MIME-Version")
	}
}

func readParts(t *testing.T, contentType string, r io.Reader) []partView {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q (%v), want multipart", contentType, err)
	}
	mr := multipart.NewReader(r, params["boundary"])
	var out []partView
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, partView{Header: mail.Header(p.Header), body: b})
	}
}

type partView struct {
	Header mail.Header
	body   []byte
}

func decodeQP(t *testing.T, b []byte) string {
	t.Helper()
	out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestBuildIsDeterministic(t *testing.T) {
	a, err := Build(sampleEnvelope())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(sampleEnvelope())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of one envelope differ")
	}
}

func TestBuildTextOnly(t *testing.T) {
	env := sampleEnvelope()
	env.HTMLBody, env.Attachments = "", nil
	raw, err := Build(env)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	parts := readParts(t, msg.Header.Get("Content-Type"), msg.Body)
	if len(parts) != 1 || !strings.HasPrefix(parts[0].Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("parts = %+v, want one text/plain", parts)
	}
}

func TestBuildRefusesInjection(t *testing.T) {
	cases := map[string]func(e *Envelope){
		"subject CRLF":     func(e *Envelope) { e.Subject = "hi\r\nBcc: victim@example.com" },
		"subject LF":       func(e *Envelope) { e.Subject = "hi\nBcc: victim@example.com" },
		"subject CR":       func(e *Envelope) { e.Subject = "hi\rBcc: victim@example.com" },
		"from LF":          func(e *Envelope) { e.From = "a@example.com\nBcc: v@example.com" },
		"to CRLF":          func(e *Envelope) { e.To = []string{"a@example.com\r\nBcc: v@example.com"} },
		"message id":       func(e *Envelope) { e.MessageID = "x@y\r\nBcc: v@example.com" },
		"filename":         func(e *Envelope) { e.Attachments[0].Filename = "a.pdf\r\nX-Evil: 1" },
		"content type":     func(e *Envelope) { e.Attachments[0].ContentType = "text/plain\r\nX-Evil: 1" },
		"bad from":         func(e *Envelope) { e.From = "not an address" },
		"no recipients":    func(e *Envelope) { e.To = nil },
		"no message id":    func(e *Envelope) { e.MessageID = "" },
		"no date":          func(e *Envelope) { e.Date = time.Time{} },
		"no filename":      func(e *Envelope) { e.Attachments[0].Filename = "" },
		"bad content type": func(e *Envelope) { e.Attachments[0].ContentType = "///" },
		"huge subject":     func(e *Envelope) { e.Subject = strings.Repeat("s", 1200) },
	}
	for name, mutate := range cases {
		env := sampleEnvelope()
		mutate(&env)
		raw, err := Build(env)
		if !errors.Is(err, ErrInvalidEnvelope) {
			t.Errorf("%s: err = %v, want ErrInvalidEnvelope", name, err)
		}
		if raw != nil {
			t.Errorf("%s: returned bytes with the error", name)
		}
	}
}
