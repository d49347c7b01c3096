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
  aispm-reports token issue TENANT ROLE [--ttl-days N]
                                            issue an API token (shown once; the tenant's default lifetime
                                            unless --ttl-days, never past its maximum)
  aispm-reports token list TENANT           list the tenant's tokens: role, status, expiry, last use
  aispm-reports token revoke TENANT TOKEN_REF
                                            revoke a token (running servers refuse it within 5 s)
  aispm-reports token rotate TENANT TOKEN_REF [--ttl-days N]
                                            replace a token by a new one of the same role (shown once)
  aispm-reports export TENANT CONTRACT      print a public-safe export (delivery-contract, setup-wizard-contract,
                                            export-package-manifest, retention-lifecycle, search-retrieval,
                                            recipient-policy, delivery-audit-event, approval-decision)
  aispm-reports export-package TENANT PACKAGE DIR
                                            write a package's offline bundle (manifest, signature, public key,
                                            artifacts) into the new folder DIR
  aispm-reports verify manifest FILE [--public-key PEM]
                                            verify a bundle offline: FILE is its manifest.json (or the bundle
                                            folder); checks the signature and every artifact digest
  aispm-reports export-bundle TENANT DIR [--from RFC3339] [--to RFC3339]
                                            write the tenant's audit log bundle (segments, checkpoints, public
                                            key, manifests) for a time range into the new folder DIR
  aispm-reports verify packet FILE [--public-key PEM]
                                            verify a signed evidence packet (.json) or a GRC upload
                                            package (.zip) offline: seal, key, and every file digest
  aispm-reports verify log BUNDLE [--public-key PEM] [--deep]
                                            verify an audit log bundle offline: hash chains, signatures,
                                            Merkle roots; names the first bad entry
  aispm-reports verify proof FILE [--public-key PEM]
                                            verify an evidence inclusion proof (GET .../evidence/{ref}/proof)

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
	case "export-package":
		return exportPackageCmd(ctx, args[1:], out)
	case "export-bundle":
		return exportBundleCmd(ctx, args[1:], out)
	case "verify":
		return verifyCmd(args[1:], out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
}
