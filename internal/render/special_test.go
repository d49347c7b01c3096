package render

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/keysigner"
	"github.com/cavra-enterprise/aispm-reports/internal/sealed"
)

func testSigner(t *testing.T, seed byte) *keysigner.Signer {
	t.Helper()
	s, err := keysigner.New(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func special(t *testing.T, report, format string, sg sealed.Signer) ([]byte, *store) {
	t.Helper()
	s, _ := seed(3000, 90)
	snap, err := TakeSnapshot(context.Background(), s, "acme", window)
	if err != nil {
		t.Fatal(err)
	}
	doc := renderDoc(t, s, report)
	out, err := WriteReport(context.Background(), doc, format, nil, Sources{Objects: s, Snapshot: snap, Window: window, Signer: sg})
	if err != nil {
		t.Fatal(err)
	}
	return out, s
}

func pinnedKey(t *testing.T, sg *keysigner.Signer) []byte {
	pub, err := sg.PublicKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestSignedPacketVerifiesOfflineAndRefusesTampering: the packet is deterministic under an
// Ed25519 key, verifies under its own and a pinned key, and fails on any change.
func TestSignedPacketVerifiesOfflineAndRefusesTampering(t *testing.T) {
	sg := testSigner(t, 1)
	a, _ := special(t, SignedPacketReport, "json", sg)
	b, _ := special(t, SignedPacketReport, "json", sg)
	if !bytes.Equal(a, b) {
		t.Fatal("signed packet is not byte-identical for the same snapshot")
	}
	res, err := VerifySigned(a, pinnedKey(t, sg))
	if err != nil || !res.KeyPinned || res.Segments == 0 || res.ReportID != SignedPacketReport {
		t.Fatalf("verify: %+v %v", res, err)
	}
	tampered := bytes.Replace(a, []byte(`"Events","value":"`), []byte(`"Events","value":"9`), 1)
	if bytes.Equal(tampered, a) {
		t.Fatal("tamper did not change the packet")
	}
	if _, err := VerifySigned(tampered, nil); !errors.Is(err, sealed.ErrMismatch) {
		t.Fatalf("tampered packet: %v", err)
	}
	if _, err := VerifySigned(a, pinnedKey(t, testSigner(t, 2))); err == nil {
		t.Fatal("packet verified under another pinned key")
	}
}

// TestGRCPackageVerifiesEveryFile: the zip's manifest lists every file's digest under a
// seal; a changed, added or removed file fails verification.
func TestGRCPackageVerifiesEveryFile(t *testing.T) {
	sg := testSigner(t, 1)
	z, _ := special(t, GRCPackageReport, "zip", sg)
	res, err := VerifySigned(z, nil)
	if err != nil || res.Files < 4 || res.Kind != GRCManifestSchema {
		t.Fatalf("verify: %+v %v", res, err)
	}
	names := map[string]bool{}
	for _, f := range zipEntries(t, z) {
		names[f.Name] = true
		if !f.Modified.Equal(window.To) {
			t.Errorf("entry %s modified %v", f.Name, f.Modified)
		}
	}
	for _, want := range []string{"report.json", "tables/controls.csv", "tables/agents.csv", "tables/connectors.csv", GRCManifestFile, GRCSealFile} {
		if !names[want] {
			t.Errorf("package lacks %s (has %v)", want, names)
		}
	}
	rewrite := func(change func(name string, body []byte) []byte, extra string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, f := range zipEntries(t, z) {
			body := change(f.Name, []byte(readEntry(t, f)))
			if body == nil {
				continue
			}
			w, _ := zw.Create(f.Name)
			_, _ = w.Write(body)
		}
		if extra != "" {
			w, _ := zw.Create(extra)
			_, _ = w.Write([]byte("x"))
		}
		_ = zw.Close()
		return buf.Bytes()
	}
	keep := func(_ string, b []byte) []byte { return b }
	for name, bad := range map[string][]byte{
		"changed csv": rewrite(func(n string, b []byte) []byte {
			if n == "tables/agents.csv" {
				return append(b, "x\n"...)
			}
			return b
		}, ""),
		"added file": rewrite(keep, "tables/extra.csv"),
		"removed file": rewrite(func(n string, b []byte) []byte {
			if n == "report.json" {
				return nil
			}
			return b
		}, ""),
	} {
		if _, err := VerifySigned(bad, nil); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// TestSIEMLinesAreTheWindowsEvents: one self-describing line per event inside the window.
func TestSIEMLinesAreTheWindowsEvents(t *testing.T) {
	out, _ := special(t, SIEMReport, "jsonl", nil)
	_, want := seed(3000, 90)
	total := 0
	for _, n := range want {
		total += n
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != total {
		t.Fatalf("%d lines, want %d events in the window", len(lines), total)
	}
	var ev SIEMEvent
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.Schema != SIEMSchema || ev.Timestamp == "" || ev.Event.Action != "tool_call" || ev.Observer.Vendor != "CAVRA" ||
		ev.Cavra.Decision == "" || ev.Tenant != "tenant:acme" || ev.Snapshot == "" {
		t.Fatalf("line: %+v", ev)
	}
}

// TestPublicAndLegacyLinesReadAlike: a stored public envelope keeps its richer vocabulary,
// a legacy one is mapped onto it.
func TestPublicAndLegacyLinesReadAlike(t *testing.T) {
	pub := `{"schema_version":"cavra.aispm.enterprise_live_ingestion_envelope.v1","event":{"event_id":"e1","event_type":"shell_command","occurred_at":"2026-11-26T10:00:00Z","received_at":"2026-11-26T10:00:01Z","session_id":"s","agent_id":"a1","decision":"warn","severity":"none","action_type":"exec","risk_classification":"supply_chain","policy_pack":"p"},"source":{"connector_type":"codex","connector_id":"c1"},"tenant":{"tenant_ref":"tenant:acme","environment":"production"}}`
	e, err := decodeEvent([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	if e.Decision != Warn || e.Severity != "none" || e.Type != "shell_command" || e.Connector != "c1" || e.ConnectorType != "codex" ||
		e.Agent != "a1" || e.Environment != "production" || e.Action != "exec" || len(e.Controls) != 1 || e.ReceivedAt == "" {
		t.Fatalf("public line read as %+v", e)
	}
	legacy := `{"schema_version":"aispm.ingest_envelope.v1","source":{"kind":"mcp_server","connector":"c2","agent":"a2"},"event":{"event_id":"e2","occurred_at":"2026-11-26T10:00:00Z","type":"approval","decision":"observed","severity":"info","policy_pack":"p","control_ids":["AC-1"]}}`
	l, err := decodeEvent([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	if l.Decision != AuditOnly || l.Severity != "none" || l.Type != "approval_event" || l.ConnectorType != "mcp_server" || l.Connector != "c2" {
		t.Fatalf("legacy line read as %+v", l)
	}
}
