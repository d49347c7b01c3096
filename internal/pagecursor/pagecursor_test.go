package pagecursor_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/pagecursor"
)

func TestSealedCursorOpensOnlyInItsScope(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "items.db"), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	// Processes that start at once agree on one key: what one seals, any other opens.
	sealers := make([]*pagecursor.Sealer, 8)
	cursors := make([]string, len(sealers))
	var wg sync.WaitGroup
	for i := range sealers {
		sealers[i] = pagecursor.New(st)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := sealers[i].Seal(ctx, "tenant-a|f1", []byte("art_1"))
			if err != nil {
				t.Error(err)
			}
			cursors[i] = c
		}()
	}
	wg.Wait()
	for i, c := range cursors {
		pos, err := sealers[(i+1)%len(sealers)].Open(ctx, "tenant-a|f1", c)
		if err != nil || string(pos) != "art_1" {
			t.Fatalf("cursor %d: %q %v", i, pos, err)
		}
	}

	c := cursors[0]
	for name, tc := range map[string]struct{ scope, cursor string }{
		"other tenant":  {"tenant-b|f1", c},
		"other filters": {"tenant-a|f2", c},
		"no tag":        {"tenant-a|f1", "YXJ0XzE"},
		"bad tag":       {"tenant-a|f1", c[:len(c)-2] + "AA"},
		"other body":    {"tenant-a|f1", "YXJ0XzI" + c[len("YXJ0XzE"):]},
		"too long":      {"tenant-a|f1", c + string(make([]byte, 4096))},
	} {
		if _, err := sealers[0].Open(ctx, tc.scope, tc.cursor); !errors.Is(err, pagecursor.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}

	// Another deployment (another store) has another key.
	other, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "other.db"), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	if _, err := pagecursor.New(other).Open(ctx, "tenant-a|f1", c); !errors.Is(err, pagecursor.ErrInvalid) {
		t.Fatalf("foreign deployment: %v", err)
	}
}
