package render

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDOCXIsByteIdenticalAndWellFormed writes the same document twice: the same bytes, the
// parts in their fixed order stamped with the as-of time, every part well-formed XML with
// the title's markup characters escaped.
func TestDOCXIsByteIdenticalAndWellFormed(t *testing.T) {
	a, err := Write(chartDoc(14), "docx", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Write(chartDoc(14), "docx", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("two writes differ: %d vs %d bytes", len(a), len(b))
	}
	asOf := chartDoc(14).AsOf()
	var names []string
	for _, f := range zipEntries(t, a) {
		names = append(names, f.Name)
		if !f.Modified.Equal(asOf) {
			t.Errorf("%s modified %v, want %v", f.Name, f.Modified, asOf)
		}
		body := readEntry(t, f)
		if err := wellFormed(body); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		if f.Name == "word/document.xml" && !strings.Contains(body, "ACME Board pack &lt;Q4&gt; &amp; more") {
			t.Errorf("document.xml lacks the escaped title")
		}
		if f.Name == "docProps/core.xml" && !strings.Contains(body, "2026-11-28T00:00:00Z</dcterms:modified>") {
			t.Errorf("core properties not dated by the document: %s", body)
		}
	}
	want := "[Content_Types].xml _rels/.rels docProps/core.xml word/_rels/document.xml.rels word/document.xml word/styles.xml word/footer1.xml"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("parts %s, want %s", got, want)
	}
	if f, _ := LookupFormat("docx"); f.Ext != "docx" || f.ContentType != "application/vnd.openxmlformats-officedocument.wordprocessingml.document" {
		t.Fatalf("docx format %+v", f)
	}
}

func wellFormed(s string) error {
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// TestDOCXOpensInLibreOffice converts the DOCX to PDF with LibreOffice and reads the text
// back: a package Word-compatible software cannot open would fail here, not at a customer.
func TestDOCXOpensInLibreOffice(t *testing.T) {
	soffice, pdftotext := tool(t, "soffice"), tool(t, "pdftotext")
	dir := t.TempDir()
	d := chartDoc(14)
	b, err := Write(d, "docx", nil)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "report.docx")
	if err := os.WriteFile(src, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The first start of a fresh profile takes LibreOffice 20 to 40 s on a slow machine.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	profile := "file://" + filepath.Join(dir, "lo-profile")
	run(t, exec.CommandContext(ctx, soffice, "-env:UserInstallation="+profile, "--headless", "--norestore",
		"--convert-to", "pdf", "--outdir", dir, src))
	text := run(t, exec.CommandContext(ctx, pdftotext, "-layout", filepath.Join(dir, "report.pdf"), "-"))
	for _, want := range []string{d.FullTitle(), "allow_with_attestation", "1077", "Key figures", d.Meta.Branding.FooterText, "Page 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("converted text lacks %q:\n%s", want, text)
		}
	}
}

// tool finds a program the test needs: missing, it skips the test, except under CI, where
// scripts/test.sh installs it and its absence is a broken machine.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not on PATH (scripts/test.sh installs it)", name)
	}
	t.Skipf("%s is not on PATH: apt-get install libreoffice-writer-nogui poppler-utils", name)
	return ""
}

func run(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, errOut.String())
	}
	return out.String()
}
