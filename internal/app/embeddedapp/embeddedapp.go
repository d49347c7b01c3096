// Package embeddedapp opens the product on its embedded adapters: a SQLite file, a
// filesystem WORM store and an Ed25519 key file, all under one data folder.
package embeddedapp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cavra-enterprise/aispm-reports/internal/app"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/egress"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/emlmail"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/keysigner"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/localgate"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/localsched"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/wormfs"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// App is the embedded product.
type App struct {
	*app.Services
	Items     *sqlitestore.Store
	Objects   *wormfs.Store
	Scheduler *localsched.Scheduler
	KeySigner *keysigner.Signer
	// Outbox keeps every mail as an .eml file; Gates is the in-process approval engine.
	Outbox *emlmail.Outbox
	Gates  *localgate.Engine
}

// Open creates the data folder on first use and opens every adapter in it.
func Open(ctx context.Context, cfg config.Embedded, clk clock.Clock) (*App, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	dbPath := filepath.Join(cfg.DataDir, "aispm.db")
	items, err := sqlitestore.Open(ctx, dbPath, clk)
	if err != nil {
		return nil, err
	}
	key, err := presignKey(filepath.Join(cfg.DataDir, "presign.key"))
	if err != nil {
		items.Close()
		return nil, err
	}
	objects, err := wormfs.Open(filepath.Join(cfg.DataDir, "objects"), cfg.PublicBaseURL, key, clk)
	if err != nil {
		items.Close()
		return nil, err
	}
	sg, err := keysigner.LoadOrCreate(filepath.Join(cfg.DataDir, "signing.key"))
	if err != nil {
		items.Close()
		return nil, err
	}
	// The scheduler fires into the services it is part of: svc is set before any Tick.
	var svc *app.Services
	sched, err := localsched.Open(ctx, dbPath, clk, func(ctx context.Context, f scheduler.Firing) error {
		return svc.Fire(ctx, f)
	})
	if err != nil {
		items.Close()
		return nil, err
	}
	fail := func(err error) (*App, error) {
		sched.Close()
		items.Close()
		return nil, err
	}
	outbox, err := emlmail.New(filepath.Join(cfg.DataDir, "outbox"), clk, nil)
	if err != nil {
		return fail(err)
	}
	gates, err := localgate.New(clk, filepath.Join(cfg.DataDir, "approval-gates.json"))
	if err != nil {
		return fail(err)
	}
	sweepTempFiles(ctx, cfg.DataDir, objects)
	if err := importScheduleFiles(ctx, sched, filepath.Join(cfg.DataDir, legacyScheduleDir)); err != nil {
		gates.Close()
		return fail(err)
	}
	out, err := egress.New(cfg.AllowPrivateTargets, cfg.TrustedCAFile)
	if err != nil {
		gates.Close()
		return fail(err)
	}
	svc = app.Build(ports.Set{Items: items, Objects: objects, Scheduler: sched, Signer: sg, Clock: clk, Mailer: outbox, Gate: gates,
		Egress: out})
	// Presigned downloads are checked against the artifact records, and refusals are evidenced.
	objects.SetDownloadGuard(svc.Artifacts)
	return &App{Services: svc, Items: items, Objects: objects, Scheduler: sched, KeySigner: sg, Outbox: outbox, Gates: gates}, nil
}

// Close releases the SQLite file.
func (a *App) Close() error {
	a.Gates.Close()
	return errors.Join(a.Scheduler.Close(), a.Items.Close())
}

// presignKey loads the HMAC key of presigned object links, creating it (0600) on first use.
func presignKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("presign key: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("presign key: %w", err)
	}
	return key, nil
}
