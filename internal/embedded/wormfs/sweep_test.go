package wormfs

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

func TestSweepTempRemovesStaleSidecarTempsOnly(t *testing.T) {
	ctx := context.Background()
	s, _, root := newStore(t)
	info, err := s.Put(ctx, objectstore.PutInput{Key: "reports/a.pdf", Body: strings.NewReader("pdf")})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.keyDir("reports/a.pdf")
	aged := func(name string, age time.Duration) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{"), 0o444); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	aged(".tmp-111", time.Hour)
	aged(".tmp-222", time.Second)
	// A symlinked folder among the key folders is not entered.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, ".tmp-333"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(outside, ".tmp-333"), old, old)
	if err := os.Symlink(outside, filepath.Join(root, "objects", "linked")); err != nil {
		t.Fatal(err)
	}

	n, err := s.SweepTemp(ctx, atomicfile.MinTempAge)
	if err != nil || n != 1 {
		t.Fatalf("SweepTemp = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-111")); !os.IsNotExist(err) {
		t.Errorf("stale temp still there: %v", err)
	}
	for _, p := range []string{filepath.Join(dir, ".tmp-222"), filepath.Join(outside, ".tmp-333")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	body, got, err := s.Get(ctx, "reports/a.pdf", info.VersionID)
	if err != nil {
		t.Fatalf("the object after the sweep: %v", err)
	}
	defer body.Close()
	if b, _ := io.ReadAll(body); string(b) != "pdf" || got.VersionID != info.VersionID {
		t.Errorf("object after the sweep = %q %+v", b, got)
	}
}
