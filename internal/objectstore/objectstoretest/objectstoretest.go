// Package objectstoretest is the contract suite every objectstore.Store adapter runs
// unchanged: the WORM rules of package objectstore, checked through the port only.
package objectstoretest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// Harness is one fresh, empty store (its own bucket or root) plus what the suite needs
// around it.
type Harness struct {
	Store objectstore.Store
	// AddVersion stores one more version of a key, skipping Put's refusal of existing keys
	// the way a second writer with direct bucket access could. Per-version locks can only
	// be tested with two versions of one key, and the port itself never makes them.
	AddVersion func(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error)
	// Now is the time the store enforces retention by.
	Now func() time.Time
	// Sleep lets d pass for the store: a clock advance for a store on a manual clock, a
	// real sleep against an emulator.
	Sleep func(d time.Duration)
	// PresignExpiryGap, when set, names an emulator gap: the server keeps serving presigned
	// URLs after they expire, so that one check is skipped with this reason.
	PresignExpiryGap string
	// Tamper changes the stored bytes of key@versionID behind the port's back (a byte
	// flipped in the file on disk, a raw write to the bucket) while the store's recorded
	// digest stays the original's, and returns the version id a reader of the damaged
	// object asks for. Every adapter supplies one: the tampered case fails without it.
	Tamper func(t *testing.T, key, versionID string) string
}

// Run runs the contract suite. open returns a new empty store for each subtest; the
// subtests run in parallel, so each one must get its own store.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"PutExistingKeyRefused", testPutExisting},
		{"NotFound", testNotFound},
		{"RetentionCompliance", func(t *testing.T, h Harness) { testRetention(t, h, objectstore.Compliance) }},
		{"RetentionGovernance", func(t *testing.T, h Harness) { testRetention(t, h, objectstore.Governance) }},
		{"ComplianceNotDowngraded", testComplianceDowngrade},
		{"RetentionExpires", testRetentionExpires},
		{"LegalHold", testLegalHold},
		{"LegalHoldOutlivesRetention", testLegalHoldOutlivesRetention},
		{"PerVersionLock", testPerVersionLock},
		{"ListVersions", testListVersions},
		{"PresignGet", testPresignGet},
		{"InvalidInput", testInvalid},
		{"TamperedObjectRefused", testTampered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func testRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	body := []byte(`{"report":"q3","rows":[1,2,3]}`)
	meta := map[string]string{"report-id": "r-1", "tenant-ref": "t-9"}
	put := mustPut(t, h, objectstore.PutInput{Key: "reports/q3.json", Body: bytes.NewReader(body),
		ContentType: "application/json", Metadata: meta})
	want := objectstore.DigestOf(body)
	if put.Digest != want || put.Size != int64(len(body)) || put.VersionID == "" || put.Key != "reports/q3.json" {
		t.Fatalf("Put info = %+v, want digest %s size %d and a version", put, want, len(body))
	}
	for _, vid := range []string{"", put.VersionID} {
		got, info := mustGet(t, h, "reports/q3.json", vid)
		if !bytes.Equal(got, body) {
			t.Fatalf("Get(%q) bytes = %q, want %q", vid, got, body)
		}
		checkInfo(t, "Get", info, put, meta)
		head, err := h.Store.Head(ctx, "reports/q3.json", vid)
		if err != nil {
			t.Fatalf("Head(%q): %v", vid, err)
		}
		checkInfo(t, "Head", head, put, meta)
		if head.Created.IsZero() {
			t.Fatalf("Head(%q).Created is zero", vid)
		}
	}
}

func checkInfo(t *testing.T, op string, got, put objectstore.Info, meta map[string]string) {
	t.Helper()
	if got.Key != put.Key || got.VersionID != put.VersionID || got.Digest != put.Digest ||
		got.Size != put.Size || got.ContentType != "application/json" || got.DeleteMarker {
		t.Fatalf("%s info = %+v, want key/version/digest/size of %+v and content type", op, got, put)
	}
	if len(got.Metadata) != len(meta) {
		t.Fatalf("%s metadata = %v, want %v", op, got.Metadata, meta)
	}
	for k, v := range meta {
		if got.Metadata[k] != v {
			t.Fatalf("%s metadata = %v, want %v", op, got.Metadata, meta)
		}
	}
}

func testPutExisting(t *testing.T, h Harness) {
	first := mustPut(t, h, objectstore.PutInput{Key: "k", Body: bytes.NewReader([]byte("first"))})
	_, err := h.Store.Put(context.Background(), objectstore.PutInput{Key: "k", Body: bytes.NewReader([]byte("second"))})
	if !errors.Is(err, objectstore.ErrExists) {
		t.Fatalf("second Put err = %v, want ErrExists", err)
	}
	got, info := mustGet(t, h, "k", "")
	if string(got) != "first" || info.VersionID != first.VersionID {
		t.Fatalf("after refused Put: bytes %q version %s, want %q version %s", got, info.VersionID, "first", first.VersionID)
	}
	if vs := mustList(t, h, "k"); len(vs) != 1 {
		t.Fatalf("versions after refused Put = %d, want 1: %+v", len(vs), vs)
	}
}

func testNotFound(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, _, err := h.Store.Get(ctx, "missing", ""); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Get missing err = %v, want ErrNotFound", err)
	}
	if _, err := h.Store.Head(ctx, "missing", ""); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Head missing err = %v, want ErrNotFound", err)
	}
	if _, err := h.Store.PresignGet(ctx, "missing", "", time.Minute); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("PresignGet missing err = %v, want ErrNotFound", err)
	}
	// A version id the store really issued, then removed: missing, not malformed.
	gone := mustPut(t, h, objectstore.PutInput{Key: "gone", Body: bytes.NewReader([]byte("x"))})
	mustDelete(t, h, "gone", gone.VersionID)
	if _, err := h.Store.Head(ctx, "gone", gone.VersionID); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Head deleted version err = %v, want ErrNotFound", err)
	}
	if _, _, err := h.Store.Get(ctx, "gone", gone.VersionID); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Get deleted version err = %v, want ErrNotFound", err)
	}
	if err := h.Store.DeleteVersion(ctx, "gone", gone.VersionID); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("DeleteVersion deleted version err = %v, want ErrNotFound", err)
	}
	if err := h.Store.SetLegalHold(ctx, "missing", "", true); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("SetLegalHold missing err = %v, want ErrNotFound", err)
	}
}

func testRetention(t *testing.T, h Harness, mode objectstore.RetentionMode) {
	ctx := context.Background()
	until := h.Now().Add(time.Hour)
	put := mustPut(t, h, objectstore.PutInput{Key: "locked", Body: bytes.NewReader([]byte("evidence")),
		Retention: objectstore.Retention{Mode: mode, Until: until}})
	checkRetention(t, h, "locked", put.VersionID, mode, until)
	expectLocked(t, h.Store.DeleteVersion(ctx, "locked", put.VersionID), "DeleteVersion under retention")
	expectLocked(t, h.Store.DeleteVersion(ctx, "locked", ""), "DeleteVersion of current under retention")
	expectLocked(t, h.Store.SetRetention(ctx, "locked", put.VersionID,
		objectstore.Retention{Mode: mode, Until: until.Add(-30 * time.Minute)}), "shorten retention")
	expectLocked(t, h.Store.SetRetention(ctx, "locked", put.VersionID, objectstore.Retention{}), "remove retention")
	checkRetention(t, h, "locked", put.VersionID, mode, until)

	longer := until.Add(time.Hour)
	if err := h.Store.SetRetention(ctx, "locked", put.VersionID, objectstore.Retention{Mode: mode, Until: longer}); err != nil {
		t.Fatalf("extend retention: %v", err)
	}
	checkRetention(t, h, "locked", put.VersionID, mode, longer)
	expectLocked(t, h.Store.SetRetention(ctx, "locked", put.VersionID,
		objectstore.Retention{Mode: mode, Until: until}), "shorten extended retention")
	expectLocked(t, h.Store.DeleteVersion(ctx, "locked", put.VersionID), "DeleteVersion after extension")
	if got, _ := mustGet(t, h, "locked", put.VersionID); string(got) != "evidence" {
		t.Fatalf("locked bytes = %q, want %q", got, "evidence")
	}
}

func testComplianceDowngrade(t *testing.T, h Harness) {
	until := h.Now().Add(time.Hour)
	put := mustPut(t, h, objectstore.PutInput{Key: "c", Body: bytes.NewReader([]byte("c")),
		Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: until}})
	expectLocked(t, h.Store.SetRetention(context.Background(), "c", put.VersionID,
		objectstore.Retention{Mode: objectstore.Governance, Until: until.Add(time.Hour)}), "COMPLIANCE to GOVERNANCE")
	checkRetention(t, h, "c", put.VersionID, objectstore.Compliance, until)
}

func testRetentionExpires(t *testing.T, h Harness) {
	ctx := context.Background()
	put := mustPut(t, h, objectstore.PutInput{Key: "short", Body: bytes.NewReader([]byte("s")),
		Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: h.Now().Add(2 * time.Second)}})
	expectLocked(t, h.Store.DeleteVersion(ctx, "short", put.VersionID), "DeleteVersion before expiry")
	h.Sleep(3500 * time.Millisecond)
	mustDelete(t, h, "short", put.VersionID)
	if _, err := h.Store.Head(ctx, "short", ""); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Head after delete err = %v, want ErrNotFound", err)
	}
}

func testLegalHold(t *testing.T, h Harness) {
	ctx := context.Background()
	put := mustPut(t, h, objectstore.PutInput{Key: "held", Body: bytes.NewReader([]byte("h")), LegalHold: true})
	if info := mustHead(t, h, "held", put.VersionID); !info.LegalHold {
		t.Fatalf("Head after Put with hold: LegalHold false")
	}
	expectLocked(t, h.Store.DeleteVersion(ctx, "held", put.VersionID), "DeleteVersion on hold")
	if err := h.Store.SetLegalHold(ctx, "held", put.VersionID, false); err != nil {
		t.Fatalf("SetLegalHold off: %v", err)
	}
	if info := mustHead(t, h, "held", put.VersionID); info.LegalHold {
		t.Fatalf("Head after hold off: LegalHold true")
	}
	if err := h.Store.SetLegalHold(ctx, "held", "", true); err != nil {
		t.Fatalf("SetLegalHold on current: %v", err)
	}
	expectLocked(t, h.Store.DeleteVersion(ctx, "held", put.VersionID), "DeleteVersion on hold again")
	if err := h.Store.SetLegalHold(ctx, "held", put.VersionID, false); err != nil {
		t.Fatalf("SetLegalHold off: %v", err)
	}
	mustDelete(t, h, "held", put.VersionID)
}

func testLegalHoldOutlivesRetention(t *testing.T, h Harness) {
	ctx := context.Background()
	put := mustPut(t, h, objectstore.PutInput{Key: "hr", Body: bytes.NewReader([]byte("hr")),
		Retention: objectstore.Retention{Mode: objectstore.Governance, Until: h.Now().Add(2 * time.Second)}})
	if err := h.Store.SetLegalHold(ctx, "hr", put.VersionID, true); err != nil {
		t.Fatalf("SetLegalHold on: %v", err)
	}
	h.Sleep(3500 * time.Millisecond)
	expectLocked(t, h.Store.DeleteVersion(ctx, "hr", put.VersionID), "DeleteVersion on hold after retention passed")
	if err := h.Store.SetLegalHold(ctx, "hr", put.VersionID, false); err != nil {
		t.Fatalf("SetLegalHold off: %v", err)
	}
	mustDelete(t, h, "hr", put.VersionID)
}

// testPerVersionLock catches a store that keeps the lock per key instead of per version.
func testPerVersionLock(t *testing.T, h Harness) {
	ctx := context.Background()
	locked := objectstore.Retention{Mode: objectstore.Compliance, Until: h.Now().Add(time.Hour)}

	old := mustPut(t, h, objectstore.PutInput{Key: "a", Body: bytes.NewReader([]byte("old")), Retention: locked})
	newer := mustAdd(t, h, objectstore.PutInput{Key: "a", Body: bytes.NewReader([]byte("new"))})
	if info := mustHead(t, h, "a", newer.VersionID); info.Retention.InForce(h.Now()) {
		t.Fatalf("unlocked newer version reports retention %+v", info.Retention)
	}
	mustDelete(t, h, "a", newer.VersionID)
	expectLocked(t, h.Store.DeleteVersion(ctx, "a", old.VersionID), "DeleteVersion of locked older version")
	if got, _ := mustGet(t, h, "a", old.VersionID); string(got) != "old" {
		t.Fatalf("locked old bytes = %q, want %q", got, "old")
	}

	// The other way round: the unlocked older version goes, the locked newer one stays.
	plain := mustPut(t, h, objectstore.PutInput{Key: "b", Body: bytes.NewReader([]byte("plain"))})
	held := mustAdd(t, h, objectstore.PutInput{Key: "b", Body: bytes.NewReader([]byte("held")), LegalHold: true})
	expectLocked(t, h.Store.DeleteVersion(ctx, "b", held.VersionID), "DeleteVersion of held newer version")
	mustDelete(t, h, "b", plain.VersionID)
	if vs := mustList(t, h, "b"); len(vs) != 1 || vs[0].VersionID != held.VersionID {
		t.Fatalf("versions of b = %+v, want only %s", vs, held.VersionID)
	}
}

func testListVersions(t *testing.T, h Harness) {
	for _, k := range []string{"list/b", "list/a/2", "list/a/1", "other/x", "lister"} {
		mustPut(t, h, objectstore.PutInput{Key: k, Body: bytes.NewReader([]byte(k))})
	}
	b2 := mustAdd(t, h, objectstore.PutInput{Key: "list/b", Body: bytes.NewReader([]byte("b2"))})

	got := mustList(t, h, "list/")
	want := []string{"list/a/1", "list/a/2", "list/b", "list/b"}
	if len(got) != len(want) {
		t.Fatalf("ListVersions(list/) = %+v, want keys %v", got, want)
	}
	for i, k := range want {
		if got[i].Key != k || got[i].VersionID == "" || got[i].DeleteMarker {
			t.Fatalf("ListVersions(list/)[%d] = %+v, want key %s", i, got[i], k)
		}
	}
	if got[2].VersionID != b2.VersionID {
		t.Fatalf("ListVersions(list/) newest list/b = %s, want %s first", got[2].VersionID, b2.VersionID)
	}
	if got[0].Digest != objectstore.DigestOf([]byte("list/a/1")) || got[0].Size != int64(len("list/a/1")) {
		t.Fatalf("ListVersions info = %+v, want digest and size of its bytes", got[0])
	}
	if vs := mustList(t, h, "list/a/"); len(vs) != 2 {
		t.Fatalf("ListVersions(list/a/) = %+v, want 2", vs)
	}
	if vs := mustList(t, h, "nothing/"); len(vs) != 0 {
		t.Fatalf("ListVersions(nothing/) = %+v, want none", vs)
	}
}

// RunPresignExpiry runs only the presigned GET case, for an emulator that enforces URL
// expiry where the main emulator of an adapter does not.
func RunPresignExpiry(t *testing.T, h Harness) {
	h.PresignExpiryGap = ""
	testPresignGet(t, h)
}

func testPresignGet(t *testing.T, h Harness) {
	ctx := context.Background()
	old := mustPut(t, h, objectstore.PutInput{Key: "room/report.pdf", Body: bytes.NewReader([]byte("%PDF-1 old")),
		ContentType: "application/pdf"})
	mustAdd(t, h, objectstore.PutInput{Key: "room/report.pdf", Body: bytes.NewReader([]byte("%PDF-1 new"))})

	current, err := h.Store.PresignGet(ctx, "room/report.pdf", "", 2*time.Second)
	if err != nil {
		t.Fatalf("PresignGet current: %v", err)
	}
	pinned, err := h.Store.PresignGet(ctx, "room/report.pdf", old.VersionID, time.Hour)
	if err != nil {
		t.Fatalf("PresignGet old version: %v", err)
	}
	if code, body := fetch(t, current); code != http.StatusOK || string(body) != "%PDF-1 new" {
		t.Fatalf("GET presigned current = %d %q, want 200 %q", code, body, "%PDF-1 new")
	}
	if code, body := fetch(t, pinned); code != http.StatusOK || string(body) != "%PDF-1 old" {
		t.Fatalf("GET presigned old version = %d %q, want 200 %q", code, body, "%PDF-1 old")
	}
	h.Sleep(3500 * time.Millisecond)
	if h.PresignExpiryGap != "" {
		// Not a skip: the adapter's expiry is checked on another emulator by RunPresignExpiry.
		t.Logf("expiry checked elsewhere: %s", h.PresignExpiryGap)
		return
	}
	if code, body := fetch(t, current); code != http.StatusForbidden || bytes.Contains(body, []byte("%PDF")) {
		t.Fatalf("GET expired presigned URL = %d %q, want 403 without the bytes", code, body)
	}
}

func testInvalid(t *testing.T, h Harness) {
	ctx := context.Background()
	bad := []objectstore.PutInput{
		{Key: "", Body: bytes.NewReader(nil)},
		{Key: "m", Body: bytes.NewReader(nil), Retention: objectstore.Retention{Mode: "FOREVER", Until: h.Now().Add(time.Hour)}},
		{Key: "p", Body: bytes.NewReader(nil), Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: h.Now().Add(-time.Hour)}},
		{Key: "n", Body: bytes.NewReader(nil), Metadata: map[string]string{"note": "caf\u00e9"}},
		{Key: "u", Body: bytes.NewReader(nil), Metadata: map[string]string{"Upper": "x"}},
	}
	for _, in := range bad {
		if _, err := h.Store.Put(ctx, in); !errors.Is(err, objectstore.ErrInvalid) {
			t.Fatalf("Put(%+v) err = %v, want ErrInvalid", in, err)
		}
	}
	if vs := mustList(t, h, ""); len(vs) != 0 {
		t.Fatalf("invalid Puts stored versions: %+v", vs)
	}
	mustPut(t, h, objectstore.PutInput{Key: "ok", Body: bytes.NewReader([]byte("ok"))})
	if _, err := h.Store.PresignGet(ctx, "ok", "", 0); !errors.Is(err, objectstore.ErrInvalid) {
		t.Fatalf("PresignGet ttl 0 err = %v, want ErrInvalid", err)
	}
}

// testTampered: a verified read of damaged bytes fails with ErrIntegrity, whether checked
// against the digest the product recorded or the store's own, and never hands out the
// complete damaged content before failing.
func testTampered(t *testing.T, h Harness) {
	if h.Tamper == nil {
		t.Fatal("the harness has no Tamper: every adapter must show that damaged bytes are refused")
	}
	ctx := context.Background()
	// Several of the verifying reader's chunks long, so the damage is not in the first read.
	body := bytes.Repeat([]byte("agent,decision,risk\n"), 6000)
	put := mustPut(t, h, objectstore.PutInput{Key: "tamper/register.csv", Body: bytes.NewReader(body), ContentType: "text/csv"})
	got, _, err := objectstore.ReadVerified(ctx, h.Store, put.Key, put.VersionID, put.Digest)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("verified read of intact bytes: %d bytes, err %v", len(got), err)
	}
	other := objectstore.DigestOf([]byte("another document"))
	if _, _, err := objectstore.VerifiedGet(ctx, h.Store, put.Key, put.VersionID, other); !errors.Is(err, objectstore.ErrIntegrity) {
		t.Fatalf("VerifiedGet against a digest the store does not record: err = %v, want ErrIntegrity", err)
	}

	vid := h.Tamper(t, put.Key, put.VersionID)
	for _, want := range []string{put.Digest, ""} {
		rc, _, err := objectstore.VerifiedGet(ctx, h.Store, put.Key, vid, want)
		if err == nil {
			var b []byte
			b, err = io.ReadAll(rc)
			rc.Close()
			if len(b) >= len(body) {
				t.Fatalf("verified read (want %q) released all %d bytes of the damaged object", want, len(b))
			}
		}
		if !errors.Is(err, objectstore.ErrIntegrity) {
			t.Fatalf("verified read of the damaged object (want %q): err = %v, want ErrIntegrity", want, err)
		}
		if b, _, err := objectstore.ReadVerified(ctx, h.Store, put.Key, vid, want); b != nil || !errors.Is(err, objectstore.ErrIntegrity) {
			t.Fatalf("ReadVerified of the damaged object (want %q) = %d bytes, %v; want none and ErrIntegrity", want, len(b), err)
		}
	}
}

func fetch(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET presigned URL: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read presigned body: %v", err)
	}
	return resp.StatusCode, body
}

func checkRetention(t *testing.T, h Harness, key, vid string, mode objectstore.RetentionMode, until time.Time) {
	t.Helper()
	info := mustHead(t, h, key, vid)
	// Stores keep the date at second or millisecond precision.
	if d := info.Retention.Until.Sub(until); info.Retention.Mode != mode || d > time.Second || d < -time.Second {
		t.Fatalf("retention of %s = %+v, want %s until %s", key, info.Retention, mode, until)
	}
}

func expectLocked(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, objectstore.ErrLocked) {
		t.Fatalf("%s: err = %v, want ErrLocked", what, err)
	}
}

func mustPut(t *testing.T, h Harness, in objectstore.PutInput) objectstore.Info {
	t.Helper()
	info, err := h.Store.Put(context.Background(), in)
	if err != nil {
		t.Fatalf("Put %s: %v", in.Key, err)
	}
	return info
}

func mustAdd(t *testing.T, h Harness, in objectstore.PutInput) objectstore.Info {
	t.Helper()
	info, err := h.AddVersion(context.Background(), in)
	if err != nil {
		t.Fatalf("AddVersion %s: %v", in.Key, err)
	}
	return info
}

func mustGet(t *testing.T, h Harness, key, vid string) ([]byte, objectstore.Info) {
	t.Helper()
	rc, info, err := h.Store.Get(context.Background(), key, vid)
	if err != nil {
		t.Fatalf("Get %s@%s: %v", key, vid, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s@%s: %v", key, vid, err)
	}
	return b, info
}

func mustHead(t *testing.T, h Harness, key, vid string) objectstore.Info {
	t.Helper()
	info, err := h.Store.Head(context.Background(), key, vid)
	if err != nil {
		t.Fatalf("Head %s@%s: %v", key, vid, err)
	}
	return info
}

func mustDelete(t *testing.T, h Harness, key, vid string) {
	t.Helper()
	if err := h.Store.DeleteVersion(context.Background(), key, vid); err != nil {
		t.Fatalf("DeleteVersion %s@%s: %v", key, vid, err)
	}
}

func mustList(t *testing.T, h Harness, prefix string) []objectstore.Info {
	t.Helper()
	vs, err := h.Store.ListVersions(context.Background(), prefix)
	if err != nil {
		t.Fatalf("ListVersions %q: %v", prefix, err)
	}
	return vs
}
