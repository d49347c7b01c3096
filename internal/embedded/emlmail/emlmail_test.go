package emlmail

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer/mailertest"
)

func newOutbox(t *testing.T) (*Outbox, *clock.Manual, string) {
	t.Helper()
	clk := clock.NewManual(time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC))
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := New(dir, clk, []string{"reports.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return o, clk, dir
}

func TestContract(t *testing.T) {
	mailertest.Run(t, func(t *testing.T) mailertest.Harness {
		o, _, _ := newOutbox(t)
		return mailertest.Harness{
			Sender:     o,
			From:       "Report Center <reports@reports.example.com>",
			Unverified: "someone@elsewhere.example",
			ReadBack: func(t *testing.T, id string) mailer.Message {
				m, _, err := o.Read(context.Background(), id)
				if err != nil {
					t.Fatalf("read back %s: %v", id, err)
				}
				return m
			},
		}
	})
}

func TestFilesAndListing(t *testing.T) {
	o, clk, dir := newOutbox(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 2; i++ {
		id, err := o.Send(ctx, mailertest.Message(t, "reports@reports.example.com", "a@example.org"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		clk.Advance(time.Second)
	}
	list, err := o.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != ids[0] || list[1].ID != ids[1] {
		t.Fatalf("List = %+v, want %v oldest first", list, ids)
	}
	want := "20300102T030405.000000006Z-" + ids[0] + ".eml"
	if list[0].File != want || !strings.HasPrefix(list[0].Digest, "sha256:") {
		t.Fatalf("entry = %+v, want file %s and a digest", list[0], want)
	}
	st, err := os.Stat(filepath.Join(dir, want))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o444 {
		t.Fatalf("mode %v, want 0444", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("temp file left behind: %s", e.Name())
		}
	}
}

func TestReadMissing(t *testing.T) {
	o, _, _ := newOutbox(t)
	for _, id := range []string{"0123456789abcdef0123456789abcdef", "../../etc/passwd", "*"} {
		if _, _, err := o.Read(context.Background(), id); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Read(%q) err = %v, want fs.ErrNotExist", id, err)
		}
	}
}

func TestAnySenderWithoutIdentities(t *testing.T) {
	o, err := New(t.TempDir(), clock.System{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Send(context.Background(), mailertest.Message(t, "x@anything.example", "a@example.org")); err != nil {
		t.Fatalf("Send with no identity list: %v", err)
	}
}

func TestFindByMessageID(t *testing.T) {
	o, _, _ := newOutbox(t)
	ctx := context.Background()
	m := mailertest.Message(t, "reports@reports.example.com", "a@example.org")
	want := headerMessageID(m.Raw)
	if want == "" {
		t.Fatal("the test message has no Message-ID")
	}
	if _, found, err := o.Find(ctx, "<"+want+">"); err != nil || found {
		t.Fatalf("before sending: found %v, %v", found, err)
	}
	id, err := o.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, ask := range []string{want, "<" + want + ">"} {
		if got, found, err := o.Find(ctx, ask); err != nil || !found || got != id {
			t.Fatalf("Find(%q) = %q, %v, %v; want %q", ask, got, found, err, id)
		}
	}
	if _, found, _ := o.Find(ctx, "other@reports.example.com"); found {
		t.Fatal("found a message that was never sent")
	}
}
