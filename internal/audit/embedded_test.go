package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/audit/audittest"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/keysigner"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/wormfs"
)

// embedded opens the default family in a temp folder, on a manual clock.
func embedded(t testing.TB) audittest.Harness {
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
	return audittest.Harness{Items: items, Objects: objects, Signer: s, Clock: clk, Sleep: clk.Advance}
}

func TestEmbedded(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audittest.Harness { return embedded(t) })
}
