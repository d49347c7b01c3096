package wormfs

import (
	"bytes"
	"context"
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
		}
	})
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
