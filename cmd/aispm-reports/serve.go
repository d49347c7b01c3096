package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
	"github.com/cavra-enterprise/aispm-reports/internal/localserver"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

const demoTenant = "demo"

// schedulerTick is how often the embedded scheduler looks for due schedules.
const schedulerTick = 10 * time.Second

func openEmbedded(ctx context.Context) (*embeddedapp.App, config.Embedded, error) {
	cfg, err := config.LoadEmbedded(os.LookupEnv)
	if err != nil {
		return nil, cfg, err
	}
	a, err := embeddedapp.Open(ctx, cfg, clock.System{})
	return a, cfg, err
}

func serve(ctx context.Context, out io.Writer, log *slog.Logger) error {
	a, cfg, err := openEmbedded(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	tokens, err := ensureDemo(ctx, a, cfg.DataDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	rt := a.Router(log)
	h := localserver.Handler(rt, a.Tokens, localserver.Options{Extra: map[string]http.Handler{
		"/_objects/": a.Objects.Handler(),
		"/healthz":   http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }),
	}})
	// Headers have ReadHeaderTimeout; the API's bodies have localserver's own deadline, which
	// answers a body that stops short 400 at once (a whole-request ReadTimeout would cut it
	// off silently and leave the handler a cancelled request).
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	printBanner(out, cfg, tokens)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The in-process scheduler fires expiry sweeps (EventBridge Scheduler's job in AWS).
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	go func() {
		_ = a.Scheduler.Run(schedCtx, schedulerTick, func(err error) { log.ErrorContext(ctx, "scheduled firing failed", "err", err) })
	}()
	// The audit writer reads the change feed into the audit log (the stream Lambda's job in AWS).
	stopAudit := runAuditWriter(ctx, a, log)
	defer stopAudit()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}

// ensureDemo creates the demo tenant and one token per role on first start. Tokens are
// stored hashed, so their one clear copy goes to a 0600 file in the data folder for later
// starts; a token in it that no longer works (expired, revoked or rotated) is replaced.
func ensureDemo(ctx context.Context, a *embeddedapp.App, dataDir string) (map[auth.Role]string, error) {
	path := filepath.Join(dataDir, "demo-tokens.txt")
	tokens := map[auth.Role]string{}
	if b, err := os.ReadFile(path); err == nil {
		tokens = parseTokens(string(b))
	} else if _, err := a.Tenants.Create(ctx, demoTenant, "Demo Organization", tenancy.EnterpriseTrial); err != nil && !errors.Is(err, tenancy.ErrExists) {
		return nil, fmt.Errorf("create demo tenant: %w", err)
	}
	changed := false
	for _, role := range auth.Roles {
		if p, err := a.Tokens.Authenticate(ctx, "Bearer "+tokens[role]); err == nil && p.TenantID == demoTenant && p.Role == role {
			continue
		}
		secret, _, err := a.Tokens.Issue(ctx, demoTenant, role, "system")
		if err != nil {
			return nil, err
		}
		tokens[role], changed = secret, true
	}
	if !changed {
		return tokens, nil
	}
	var b strings.Builder
	for _, role := range auth.Roles {
		fmt.Fprintf(&b, "%s=%s\n", role, tokens[role])
	}
	if err := atomicfile.Write(path, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("save demo tokens: %w", err)
	}
	return tokens, nil
}

func parseTokens(s string) map[auth.Role]string {
	out := map[auth.Role]string{}
	for _, line := range strings.Split(s, "\n") {
		if role, tok, ok := strings.Cut(line, "="); ok {
			out[auth.Role(role)] = tok
		}
	}
	return out
}

func printBanner(out io.Writer, cfg config.Embedded, tokens map[auth.Role]string) {
	base := "http://" + cfg.Listen
	fmt.Fprintf(out, "AISPM Report Center listening on %s (data in %s)\n\n", base, cfg.DataDir)
	fmt.Fprintf(out, "Demo tenant %q tokens (also in %s):\n", demoTenant, filepath.Join(cfg.DataDir, "demo-tokens.txt"))
	for _, role := range auth.Roles {
		fmt.Fprintf(out, "  %-20s %s\n", role, tokens[role])
	}
	fmt.Fprintf(out, "\nTry:\n  curl -s -H 'Authorization: Bearer %s' %s/enterprise/aispm/reports/catalog\n\n", tokens[auth.ReportOperator], base)
}
