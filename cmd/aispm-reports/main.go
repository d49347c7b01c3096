// Command aispm-reports is the operator CLI: serve the product locally on its embedded
// adapters, administer tenants and tokens, and write public-safe exports.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `aispm-reports: the AISPM Report Center operator CLI

Usage:
  aispm-reports serve                       run the API on 127.0.0.1 with a demo tenant (embedded adapters)
  aispm-reports tenant create ID NAME [EDITION]
                                            create a tenant (edition: community, enterprise, enterprise_trial)
  aispm-reports token issue TENANT ROLE     issue an API token (shown once)
  aispm-reports export TENANT CONTRACT      print a public-safe export (delivery-contract, setup-wizard-contract)

Environment: AISPM_LISTEN (default 127.0.0.1:8787), AISPM_DATA_DIR (default ./data).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "aispm-reports:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return nil
	}
	switch args[0] {
	case "serve":
		return serve(ctx, out, log)
	case "tenant":
		return tenantCmd(ctx, args[1:], out)
	case "token":
		return tokenCmd(ctx, args[1:], out)
	case "export":
		return exportCmd(ctx, args[1:], out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
}
