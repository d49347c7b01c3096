package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/publicexport"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

func tenantCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) < 3 || args[0] != "create" {
		return fmt.Errorf("usage: aispm-reports tenant create ID NAME [EDITION]")
	}
	edition := tenancy.Enterprise
	if len(args) > 3 {
		edition = args[3]
	}
	a, _, err := openEmbedded(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.Create(ctx, args[1], args[2], edition)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created tenant:%s (%s)\n", t.ID, t.Edition)
	return nil
}

const tokenUsage = `usage:
  aispm-reports token issue TENANT ROLE [--ttl-days N]
  aispm-reports token list TENANT
  aispm-reports token revoke TENANT TOKEN_REF
  aispm-reports token rotate TENANT TOKEN_REF [--ttl-days N]`

func tokenCmd(ctx context.Context, args []string, out io.Writer) error {
	args, ttl, err := ttlFlag(args)
	if err != nil {
		return err
	}
	if len(args) < 2 || (args[0] == "list") != (len(args) == 2) || len(args) > 3 {
		return errors.New(tokenUsage)
	}
	a, _, err := openEmbedded(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	tenant := args[1]
	if _, err := a.Tenants.Get(ctx, tenant); err != nil {
		return fmt.Errorf("tenant %s: %w", tenant, err)
	}
	switch args[0] {
	case "issue":
		t, err := a.Tokens.IssueToken(ctx, auth.IssueRequest{TenantID: tenant, Role: auth.Role(args[2]), TTL: ttl, ActorRole: "system"})
		if err != nil {
			return err
		}
		return printIssued(out, t)
	case "list":
		list, err := a.Tokens.List(ctx, tenant)
		if err != nil {
			return err
		}
		return printTokens(out, list)
	case "revoke":
		if err := a.Tokens.Revoke(ctx, tenant, args[2], "system"); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "revoked %s (other running processes refuse it within 5 s)\n", args[2])
		return err
	case "rotate":
		t, err := a.Tokens.Rotate(ctx, auth.RotateRequest{TenantID: tenant, TokenRef: args[2], TTL: ttl, ActorRole: "system"})
		if err != nil {
			return err
		}
		return printIssued(out, t)
	}
	return errors.New(tokenUsage)
}

// ttlFlag takes "--ttl-days N" out of args.
func ttlFlag(args []string) ([]string, time.Duration, error) {
	i := slices.Index(args, "--ttl-days")
	if i < 0 {
		return args, 0, nil
	}
	if i+1 >= len(args) {
		return nil, 0, errors.New("--ttl-days needs a number of days")
	}
	n, err := strconv.Atoi(args[i+1])
	if err != nil || n < 1 {
		return nil, 0, errors.New("--ttl-days needs a whole number of days, at least 1")
	}
	return slices.Delete(slices.Clone(args), i, i+2), time.Duration(n) * 24 * time.Hour, nil
}

// printIssued shows the ref, then the secret alone on its own line (scripts read it), then
// when it expires.
func printIssued(out io.Writer, t auth.Issued) error {
	_, err := fmt.Fprintf(out, "%s\n%s\nexpires %s (shown once: store it now)\n", t.TokenRef, t.Secret, t.ExpiresAt)
	return err
}

func printTokens(out io.Writer, list []auth.Info) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TOKEN\tROLE\tSTATUS\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		last := t.LastUsedAt
		if last == "" {
			last = "never"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.TokenRef, t.Role, t.Status, t.CreatedAt, t.ExpiresAt, last)
	}
	return w.Flush()
}

func exportCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: aispm-reports export TENANT CONTRACT")
	}
	a, _, err := openEmbedded(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.Get(ctx, args[0])
	if err != nil {
		return fmt.Errorf("tenant %s: %w", args[0], err)
	}
	cur, err := a.Settings.Get(ctx, t.ID, t.DisplayName)
	if err != nil {
		return err
	}
	raw, err := publicexport.Build(args[1], a.Reports.ExportState(ctx, t, cur.Settings, ""))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", raw)
	return err
}
