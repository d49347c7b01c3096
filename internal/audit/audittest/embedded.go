package audittest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/keysigner"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/wormfs"
)

// Embedded opens the default family (SQLite, WORM folder, Ed25519 key) in a temp folder,
// on a manual clock that Sleep advances.
func Embedded(t testing.TB) Harness {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewManual(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	items, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "items.db"), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { items.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	objects, err := wormfs.Open(filepath.Join(dir, "worm"), "http://127.0.0.1", key, clk)
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := keysigner.New(priv)
	if err != nil {
		t.Fatal(err)
	}
	return Harness{Items: items, Objects: objects, Signer: s, Clock: clk, Sleep: clk.Advance}
}
