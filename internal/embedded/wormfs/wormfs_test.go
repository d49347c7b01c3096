package wormfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore/objectstoretest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// newStore opens a store on a manual clock behind an httptest server.
func newStore(t *testing.T) (*Store, *clock.Manual, string) {
	t.Helper()
	clk := clock.NewManual(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	root := t.TempDir()
	s, err := Open(root, srv.URL, testKey, clk)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(objectsPath, s.Handler())
	return s, clk, root
}

func TestContract(t *testing.T) {
	objectstoretest.Run(t, func(t *testing.T) objectstoretest.Harness {
		s, clk, _ := newStore(t)
		return objectstoretest.Harness{
			Store: s,
			AddVersion: func(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error) {
				return s.put(ctx, in, true)
			},
			Now:   clk.Now,
			Sleep: clk.Advance,
			Tamper: func(t *testing.T, key, versionID string) string {
				flipByte(t, s, key, versionID)
				return versionID
			},
		}
	})
}

// flipByte changes one byte in the middle of a version's data file on disk, as a disk
// fault or someone with access to the folder could.
func flipByte(t *testing.T, s *Store, key, versionID string) {
	t.Helper()
	sc, err := s.resolve(context.Background(), key, versionID)
	if err != nil {
		t.Fatal(err)
	}
	path := s.dataPath(sc)
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

func TestFilesAreReadOnlyAndComplete(t *testing.T) {
	s, _, root := newStore(t)
	info, err := s.Put(context.Background(), objectstore.PutInput{Key: "a/b.txt", Body: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.keyDir("a/b.txt")
	for _, name := range []string{info.VersionID + ".data", info.VersionID + ".json"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o444 {
			t.Fatalf("%s mode = %v, want 0444", name, st.Mode().Perm())
		}
	}
	if left, _ := os.ReadDir(filepath.Join(root, "tmp")); len(left) != 0 {
		t.Fatalf("tmp not empty after Put: %v", left)
	}
}

// A crash after the body was placed but before its sidecar leaves no version behind.
func TestOrphanBodyIsNoVersion(t *testing.T) {
	s, clk, root := newStore(t)
	dir := s.keyDir("k")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "0000000001-0123456789abcdef.data"), []byte("half"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".sidecar-123"), []byte("{"), 0o444); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(context.Background(), "k", ""); err == nil {
		t.Fatal("Head of an orphaned body succeeded")
	}
	if _, err := s.Put(context.Background(), objectstore.PutInput{Key: "k", Body: strings.NewReader("whole")}); err != nil {
		t.Fatalf("Put over an orphaned body: %v", err)
	}
	// Reopening clears bodies a crash left in tmp.
	if err := os.WriteFile(filepath.Join(root, "tmp", "body-1"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, "http://127.0.0.1", testKey, clk); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(filepath.Join(root, "tmp")); len(left) != 0 {
		t.Fatalf("tmp not cleared on Open: %v", left)
	}
}

func TestPresignRejectsTampering(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	for _, k := range []string{"room/a.pdf", "room/b.pdf"} {
		if _, err := s.Put(ctx, objectstore.PutInput{Key: k, Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := s.PresignGet(ctx, "room/a.pdf", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code := get(t, raw); code != http.StatusOK {
		t.Fatalf("untampered URL = %d, want 200", code)
	}
	tamper := map[string]func(u *url.URL){
		"other key":      func(u *url.URL) { u.Path = strings.Replace(u.Path, "a.pdf", "b.pdf", 1) },
		"later expiry":   func(u *url.URL) { setQuery(u, "expires", "99999999999") },
		"bad signature":  func(u *url.URL) { setQuery(u, "sig", strings.Repeat("0", 64)) },
		"no signature":   func(u *url.URL) { setQuery(u, "sig", "") },
		"other version":  func(u *url.URL) { setQuery(u, "version", "0000000002-0123456789abcdef") },
		"garbage expiry": func(u *url.URL) { setQuery(u, "expires", "soon") },
	}
	for name, f := range tamper {
		u, _ := url.Parse(raw)
		f(u)
		if code := get(t, u.String()); code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, code)
		}
	}
	other, err := Open(t.TempDir(), "http://127.0.0.1", bytes.Repeat([]byte("k"), 32), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if _, _, ok := other.verify(&http.Request{URL: u}); ok {
		t.Fatal("a URL signed with another key verified")
	}
}

func TestPresignDeletedVersionIs404(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	info, err := s.Put(ctx, objectstore.PutInput{Key: "x", Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.PresignGet(ctx, "x", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVersion(ctx, "x", info.VersionID); err != nil {
		t.Fatal(err)
	}
	if code := get(t, raw); code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", code)
	}
}

// errorBody fetches u and decodes the stable error body.
func errorBody(t *testing.T, u string) (int, map[string]string, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Error map[string]string `json:"error"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Error) != 3 {
		t.Fatalf("status %d body %q is not the stable error body: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, body.Error, raw
}

func TestPresignMissingDataFileIs404(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	info, err := s.Put(ctx, objectstore.PutInput{Key: "room/gone.pdf", Body: strings.NewReader("%PDF-1 gone")})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.PresignGet(ctx, "room/gone.pdf", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := s.resolve(ctx, "room/gone.pdf", info.VersionID)
	if err := os.Remove(s.dataPath(sc)); err != nil {
		t.Fatal(err)
	}
	code, e, _ := errorBody(t, raw)
	if code != http.StatusNotFound || e["code"] != "not_found" {
		t.Fatalf("presigned GET of a version without its data file = %d %v, want 404 not_found", code, e)
	}
	if _, _, err := s.Get(ctx, "room/gone.pdf", info.VersionID); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Get of a version without its data file: err = %v, want ErrNotFound", err)
	}
}

// guard is a DownloadGuard recording what it was told.
type guard struct {
	digest string
	failed []string
}

func (g *guard) RecordedDigest(context.Context, string, string) (string, error) { return g.digest, nil }
func (g *guard) IntegrityFailed(_ context.Context, key, versionID string, failure *objectstore.IntegrityError) {
	g.failed = append(g.failed, key+"@"+versionID+" "+failure.Want)
}

func TestPresignRefusesDamagedBytes(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	body := strings.Repeat("%PDF-1 page ", 10000)
	info, err := s.Put(ctx, objectstore.PutInput{Key: "room/board.pdf", Body: strings.NewReader(body), ContentType: "application/pdf"})
	if err != nil {
		t.Fatal(err)
	}
	g := &guard{digest: info.Digest}
	s.SetDownloadGuard(g)
	raw, err := s.PresignGet(ctx, "room/board.pdf", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code := get(t, raw); code != http.StatusOK {
		t.Fatalf("intact bytes: %d, want 200", code)
	}
	flipByte(t, s, "room/board.pdf", info.VersionID)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, raw, nil)
		req.Header.Set("Range", "bytes=0-99")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || strings.Contains(string(b), "%PDF") || resp.Header.Get("ETag") != "" {
			t.Fatalf("%s of damaged bytes = %d %q (ETag %q), want 409 without bytes or ETag", method, resp.StatusCode, b, resp.Header.Get("ETag"))
		}
	}
	code, e, _ := errorBody(t, raw)
	if code != http.StatusConflict || e["code"] != "integrity_failure" || e["field"] != "artifact" {
		t.Fatalf("damaged bytes = %d %v, want 409 integrity_failure on artifact", code, e)
	}
	if len(g.failed) != 3 || g.failed[0] != "room/board.pdf@"+info.VersionID+" "+info.Digest {
		t.Fatalf("guard told %v, want three refusals of room/board.pdf with its digest", g.failed)
	}
}

// A sidecar rewritten to match damaged bytes still fails against the product's record.
func TestPresignChecksTheProductRecordNotOnlyTheSidecar(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	info, err := s.Put(ctx, objectstore.PutInput{Key: "room/q3.csv", Body: strings.NewReader("a,b\n1,2\n")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetDownloadGuard(&guard{digest: info.Digest})
	raw, err := s.PresignGet(ctx, "room/q3.csv", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, s, "room/q3.csv", info.VersionID)
	sc, _ := s.resolve(ctx, "room/q3.csv", info.VersionID)
	b, _ := os.ReadFile(s.dataPath(sc))
	sc.Digest = objectstore.DigestOf(b)
	if err := s.writeSidecar(sc); err != nil {
		t.Fatal(err)
	}
	if got, _, err := objectstore.ReadVerified(ctx, s, "room/q3.csv", info.VersionID, ""); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("the forged sidecar should satisfy the store's own check: %v", err)
	}
	if code, e, _ := errorBody(t, raw); code != http.StatusConflict || e["code"] != "integrity_failure" {
		t.Fatalf("download against the product record = %d %v, want 409 integrity_failure", code, e)
	}
}

func TestPresignRefusalsHaveTheErrorBody(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, objectstore.PutInput{Key: "x", Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	raw, err := s.PresignGet(ctx, "x", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	setQuery(u, "sig", strings.Repeat("0", 64))
	if code, e, _ := errorBody(t, u.String()); code != http.StatusForbidden || e["code"] != "forbidden" {
		t.Fatalf("bad signature = %d %v", code, e)
	}
	resp, err := http.Post(raw, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestOpenRefusesShortKey(t *testing.T) {
	if _, err := Open(t.TempDir(), "http://127.0.0.1", []byte("short"), clock.System{}); err == nil {
		t.Fatal("Open with a 5-byte HMAC key succeeded")
	}
}

func setQuery(u *url.URL, k, v string) {
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
}

func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
