package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
)

// auditPollInterval is how often `serve` reads the change feed into the audit log.
const auditPollInterval = time.Second

// runAuditWriter runs the audit writer on the embedded change feed until stop is called;
// stop returns once the writer has finished its current pass, before the store closes.
func runAuditWriter(ctx context.Context, a *embeddedapp.App, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Audit.NewPoller(a.Items, "embedded", auditPollInterval).Run(ctx); err != nil {
			log.Error("audit writer stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }
}

// exportBundleCmd brings the log up to date (appends what the feed holds, seals what is
// pending) and writes the tenant's bundle.
func exportBundleCmd(ctx context.Context, args []string, out io.Writer) error {
	const usage = "usage: aispm-reports export-bundle TENANT DIR [--from RFC3339] [--to RFC3339]"
	if len(args) < 2 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("export-bundle", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from, to := fs.String("from", "", ""), fs.String("to", "", "")
	if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 {
		return errors.New(usage)
	}
	req := audit.BundleRequest{TenantID: args[0], Dir: args[1]}
	var err error
	if req.From, err = optionalTime(*from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if req.To, err = optionalTime(*to); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	a, _, err := openEmbedded(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Tenants.Get(ctx, req.TenantID); err != nil {
		return fmt.Errorf("tenant %s: %w", req.TenantID, err)
	}
	if _, err := a.Audit.NewPoller(a.Items, "embedded", auditPollInterval).Drain(ctx); err != nil {
		return err
	}
	leased, err := sealForExport(ctx, a, req.TenantID)
	if err != nil {
		return err
	}
	b, err := a.Audit.ExportBundle(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: %d checkpoints, %d manifests, key %s\nverify with: aispm-reports verify log %s\n",
		req.Dir, len(b.Checkpoints), len(b.Manifests), b.PublicKeyFingerprint, req.Dir)
	if leased != nil {
		fmt.Fprintf(out, "note: the bundle ends before entry %d: entries %d..%d are held by another sealer's lease until %s "+
			"(after a crash, a sealer that died); export again in %s to include them\n",
			leased.Start, leased.Start, leased.End-1, leased.Until.Format(time.RFC3339), leased.RetryAfter(time.Now()))
	}
	return nil
}

// sealForExport seals everything pending. Entries under another sealer's live lease (right
// after a crash, a dead sealer's, until the lease runs out) are not an error: the bundle
// takes the prefix already sealed and committed, and the lease is returned so the caller can
// say what is left out and when to export again.
func sealForExport(ctx context.Context, a *embeddedapp.App, tenantID string) (*audit.LeaseHeldError, error) {
	_, err := a.Audit.Seal(ctx, tenantID, true)
	var leased *audit.LeaseHeldError
	if errors.As(err, &leased) {
		return leased, nil
	}
	return nil, err
}

func optionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}

// verifyAuditCmd handles `verify log BUNDLE` and `verify proof FILE`, offline.
func verifyAuditCmd(args []string, out io.Writer) error {
	const usage = "usage: aispm-reports verify log BUNDLE [--public-key PEM] [--deep] | verify proof FILE [--public-key PEM]"
	if len(args) < 2 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyFile, deep := fs.String("public-key", "", ""), fs.Bool("deep", false, "")
	if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 {
		return errors.New(usage)
	}
	var pinned []byte
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		if pinned, err = auditlog.DecodePublicKey(b); err != nil {
			return fmt.Errorf("%s: %w", *keyFile, err)
		}
	}
	trust := "the bundle's own public key (pin the tenant's published key with --public-key)"
	if pinned != nil {
		trust = "the pinned public key"
	}
	if args[0] == "proof" {
		return verifyProof(args[1], pinned, trust, out)
	}
	start := time.Now()
	rep, err := auditlog.VerifyBundle(args[1], auditlog.Options{PublicKey: pinned, Deep: *deep})
	if err != nil {
		return fmt.Errorf("audit log verification FAILED: %w", err)
	}
	fmt.Fprintf(out, "OK %s: entries %d..%d (%d entries, %d bytes) in %d segments; %d checkpoints verified; tree size %d, root %s; key %s, %s (%s)\n",
		rep.TenantRef, rep.FirstSeq, int64(rep.TreeSize)-1, rep.Entries, rep.Bytes, rep.Segments, rep.Checkpoints,
		rep.TreeSize, rep.RootHash, rep.KeyFingerprint, trust, time.Since(start).Round(time.Millisecond))
	return nil
}

func verifyProof(path string, pinned []byte, trust string, out io.Writer) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	res, err := auditlog.VerifyProof(doc, pinned)
	if err != nil {
		return fmt.Errorf("proof verification FAILED: %w", err)
	}
	fmt.Fprintf(out, "OK %s is entry %d of the audit log of %s; checkpoint of tree size %d (root %s, issued %s) signed by key %s, %s\n",
		res.EvidenceRef, res.LeafIndex, res.TenantRef, res.TreeSize, res.RootHash, res.IssuedAt, res.KeyFingerprint, trust)
	return nil
}
