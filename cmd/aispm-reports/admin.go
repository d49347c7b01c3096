package main

import (
	"context"
	"fmt"
	"io"

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

func tokenCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 3 || args[0] != "issue" {
		return fmt.Errorf("usage: aispm-reports token issue TENANT ROLE")
	}
	a, _, err := openEmbedded(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Tenants.Get(ctx, args[1]); err != nil {
		return fmt.Errorf("tenant %s: %w", args[1], err)
	}
	secret, ref, err := a.Tokens.Issue(ctx, args[1], auth.Role(args[2]), "system")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n%s\n", ref, secret)
	return nil
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
