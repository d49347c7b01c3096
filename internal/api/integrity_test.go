package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// damageObject flips one byte in the middle of a version's data file in the embedded WORM
// folder (package wormfs's layout: objects/<sha256 of the key>/<version>.data under the
// store's root), as a disk fault or someone with access to the folder could. The store's
// sidecar and the product's records keep the original digest.
func (e *env) damageObject(t *testing.T, key, versionID string) {
	t.Helper()
	sum := sha256.Sum256([]byte(key))
	path := filepath.Join(e.dir, "objects", "objects", hex.EncodeToString(sum[:]), versionID+".data")
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		t.Fatalf("read %s: %d bytes, %v", path, len(b), err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
}

// damageArtifact damages an artifact's stored bytes and returns its recorded digest.
func (e *env) damageArtifact(t *testing.T, tenant, artifactRef string) string {
	t.Helper()
	rec, err := e.app.Artifacts.Get(context.Background(), tenant, artifactRef)
	if err != nil {
		t.Fatal(err)
	}
	e.damageObject(t, rec.ObjectKey, rec.VersionID)
	return rec.Digest
}

// download GETs a presigned link from the embedded object server.
func (e *env) download(t *testing.T, link string) reply {
	t.Helper()
	objects := httptest.NewServer(e.app.Objects.Handler())
	defer objects.Close()
	resp, err := http.Get(objects.URL + strings.TrimPrefix(link, "http://127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// integrityEvidence returns the tenant's artifact.integrity_failed records of one read.
func (e *env) integrityEvidence(t *testing.T, tenant, read string) []evidence.Record {
	t.Helper()
	var out []evidence.Record
	for _, rec := range e.evidenceRecords(t, tenant) {
		if rec.Action == evidence.IntegrityFailed && rec.Details["read"] == read {
			out = append(out, rec)
		}
	}
	return out
}

// checkIntegrityEvidence: one record of the read, naming the subject and the digest
// expected, and nothing of the bytes or links.
func checkIntegrityEvidence(t *testing.T, recs []evidence.Record, subject, object, digest string) evidence.Record {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("%d integrity evidence records, want 1: %+v", len(recs), recs)
	}
	rec := recs[0]
	if !slices.Contains(rec.SubjectRefs, subject) || rec.Details["expected_digest"] != digest || rec.Details["object"] != object {
		t.Fatalf("integrity evidence %+v does not name %s (%s) and digest %s", rec, subject, object, digest)
	}
	raw, _ := json.Marshal(rec)
	if strings.Contains(string(raw), "http") || strings.Contains(string(raw), "@") {
		t.Fatalf("integrity evidence holds a link or an address: %s", raw)
	}
	return rec
}

func TestDamagedArtifactIsNeitherRetrievedNorDownloaded(t *testing.T) {
	e := newEnv(t)
	seedEvents(t, e, "acme", 20, "integrity")
	art := e.render(t, auth.ReportOperator, renderBody("agent_risk_register", "csv")).Artifacts[0].ArtifactRef
	allowed := retrieval(t, e, "acme", auth.TenantAdmin, art)
	link, _ := allowed.json(t)["url"].(string)
	if allowed.status != 200 || link == "" {
		t.Fatalf("retrieval of the intact artifact: %d %s", allowed.status, allowed.body)
	}
	if r := e.download(t, link); r.status != 200 {
		t.Fatalf("download of the intact artifact: %d", r.status)
	}
	intact := e.artifactBytes(t, "acme", art)
	digest := e.damageArtifact(t, "acme", art)

	// The link handed out before the damage: refused, with the error body and no bytes.
	got := e.download(t, link)
	requireError(t, got, 409, "integrity_failure", "artifact")
	if got.header.Get("ETag") != "" || bytes.Contains(got.body, intact[:32]) {
		t.Fatalf("refused download carries an ETag or the content: %v %s", got.header, got.body)
	}
	checkIntegrityEvidence(t, e.integrityEvidence(t, "acme", "download"), art, "artifact", digest)

	// A new retrieval: the link is withheld.
	r := retrieval(t, e, "acme", auth.TenantAdmin, art)
	requireError(t, r, 409, "integrity_failure", "artifact")
	if strings.Contains(string(r.body), "/_objects/") {
		t.Fatalf("refused retrieval carries a link: %s", r.body)
	}
	checkIntegrityEvidence(t, e.integrityEvidence(t, "acme", "retrieval"), art, "artifact", digest)
	// The other tenant cannot tell the damaged artifact from none.
	requireError(t, retrieval(t, e, "globex", auth.TenantAdmin, art), 404, "artifact_not_found", "")
}

// checkIntegrityDeadLetter: the delivery failed at once as integrity_failure, was never
// retried, mailed nothing, and its evidence names the subject and the digest.
func checkIntegrityDeadLetter(t *testing.T, e *env, r reply, subject, object, digest string) {
	t.Helper()
	d := decodeDelivery(t, r)
	if d.Status != delivery.StatusDeadLettered || len(d.Attempts) != 1 || d.Attempts[0].FailureClass != delivery.FailIntegrity {
		t.Fatalf("delivery of damaged bytes: %s", r.body)
	}
	if n := len(outbox(t, e)); n != 0 {
		t.Fatalf("%d mails left for damaged bytes", n)
	}
	ev := checkIntegrityEvidence(t, e.integrityEvidence(t, "acme", "delivery"), subject, object, digest)
	if !slices.Contains(d.EvidenceRefs, ev.Ref) || !slices.Contains(ev.SubjectRefs, d.DeliveryRef) {
		t.Fatalf("delivery %v and integrity evidence %+v do not name each other", d.EvidenceRefs, ev)
	}
	// No retry: the sweep finds nothing due, however late.
	e.clock.Advance(48 * time.Hour)
	if _, err := e.app.Delivery.RetryDue(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	list := e.call("GET", deliveriesPath, e.as("acme", auth.TenantAdmin), nil, nil).json(t)["deliveries"].([]any)
	found := false
	for _, it := range list {
		m := it.(map[string]any)
		if m["delivery_ref"] == d.DeliveryRef {
			found = m["failure_class"] == delivery.FailIntegrity && m["status"] == delivery.StatusDeadLettered && len(m["attempts"].([]any)) == 1
		}
	}
	if !found || len(outbox(t, e)) != 0 {
		t.Fatalf("deliveries listing does not show %s dead-lettered as integrity_failure once: %v", d.DeliveryRef, list)
	}
}

// captureLog sends the default logger's records to a buffer until the test ends (the
// tests of this package do not run in parallel).
func captureLog(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

func TestDamagedArtifactIsNotEmailed(t *testing.T) {
	e, art := deliveryEnv(t)
	logs := captureLog(t)
	digest := e.damageArtifact(t, "acme", art)
	checkIntegrityDeadLetter(t, e, e.send(t, "key-damaged-1", emailBody(art, "ops@acme.example")), art, "artifact", digest)
	logged := false
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["subject_ref"] == art {
			logged = m["level"] == "ERROR" && m["expected_digest"] == digest && m["read"] == "delivery"
		}
	}
	if !logged {
		t.Fatalf("no ERROR log naming %s and its digest: %s", art, logs)
	}
	if strings.Contains(logs.String(), "ops@acme.example") {
		t.Fatalf("the log names a recipient: %s", logs)
	}
}

// Too large to attach: the link is not mailed either.
func TestDamagedArtifactIsNotLinked(t *testing.T) {
	e, art := deliveryEnv(t)
	small := strings.Replace(goodSettings, `"sender_address": "reports@acme.example"}`,
		`"sender_address": "reports@acme.example", "max_attachment_bytes": 1024}`, 1)
	if r := e.call("PUT", settingsPath, e.as("acme", auth.TenantAdmin), []byte(small), nil); r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	digest := e.damageArtifact(t, "acme", art)
	checkIntegrityDeadLetter(t, e, e.send(t, "key-damaged-link", emailBody(art, "ops@acme.example")), art, "artifact", digest)
}

func TestDamagedArtifactIsNotSentAfterApproval(t *testing.T) {
	e, art := deliveryEnv(t)
	gated := decodeDelivery(t, e.send(t, "key-damaged-gated", emailBody(art, "cfo@partner.example")))
	if gated.Status != delivery.StatusPendingApproval {
		t.Fatalf("gated: %+v", gated)
	}
	digest := e.damageArtifact(t, "acme", art)
	r := e.call("POST", distPath+gated.DistributionRef+"/approve", e.as("acme", auth.Approver), []byte(`{"reason_code":"quarterly_review"}`), nil)
	if r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	checkIntegrityDeadLetter(t, e, r, art, "artifact", digest)
}

// signedPackage packages art and returns the package record.
func signedPackage(t *testing.T, e *env, art string) manifest.Record {
	t.Helper()
	pkg := e.call("POST", packagesPath, e.as("acme", auth.TenantAdmin),
		mustJSON(t, map[string]any{"package_type": "board_and_audit_bundle", "artifact_refs": []string{art}}), nil)
	var pb struct {
		PackageRef string `json:"package_ref"`
	}
	if err := json.Unmarshal(pkg.body, &pb); err != nil || pb.PackageRef == "" {
		t.Fatalf("package: %d %s", pkg.status, pkg.body)
	}
	rec, err := e.app.Packages.Get(context.Background(), "acme", pb.PackageRef)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// checkNoGRCExport: neither file of the package reached the GRC prefix.
func checkNoGRCExport(t *testing.T, e *env, packageRef string) {
	t.Helper()
	for _, name := range []string{"manifest.json", "manifest.sig.json"} {
		key := delivery.GRCKey("acme", "", packageRef, name)
		if _, err := e.app.Objects.Head(context.Background(), key, ""); !errors.Is(err, objectstore.ErrNotFound) {
			t.Fatalf("GRC export %s after a refused send: %v", key, err)
		}
	}
}

func TestDamagedPackageIsNotExportedToGRC(t *testing.T) {
	e, art := deliveryEnv(t)
	rec := signedPackage(t, e, art)
	e.damageObject(t, rec.ManifestKey, rec.ManifestVer)
	ref := rec.Manifest.PackageRef
	checkIntegrityDeadLetter(t, e, e.send(t, "key-damaged-grc", map[string]any{"package_ref": ref, "channel": "grc"}),
		ref, "manifest", rec.ManifestDigest)
	checkNoGRCExport(t, e, ref)
}

// The signature document has no digest of the product's: the store's is the reference, and
// the intact manifest is not exported without it.
func TestDamagedSignatureExportsNothing(t *testing.T) {
	e, art := deliveryEnv(t)
	rec := signedPackage(t, e, art)
	info, err := e.app.Objects.Head(context.Background(), rec.SignatureKey, rec.SignatureVer)
	if err != nil {
		t.Fatal(err)
	}
	e.damageObject(t, rec.SignatureKey, rec.SignatureVer)
	ref := rec.Manifest.PackageRef
	checkIntegrityDeadLetter(t, e, e.send(t, "key-damaged-sig", map[string]any{"package_ref": ref, "channel": "grc"}),
		ref, "signature", info.Digest)
	checkNoGRCExport(t, e, ref)
}
