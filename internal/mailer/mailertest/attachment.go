package mailertest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// AttachmentDigest returns the "sha256:" digest of the first attachment of a raw
// multipart message, failing the test when it has none.
func AttachmentDigest(t testing.TB, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no attachment in the mail: %v", err)
		}
		if p.FileName() == "" {
			continue
		}
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			body = base64.NewDecoder(base64.StdEncoding, p)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return objectstore.DigestOf(data)
	}
}
