package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/render"
)

func exportPackageCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: aispm-reports export-package TENANT PACKAGE DIR")
	}
	a, _, err := openEmbedded(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := a.Packages.ExportBundle(ctx, args[0], args[1], args[2])
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s with %d artifacts (manifest %s)\nverify with: aispm-reports verify manifest %s\n",
		args[2], len(rec.Manifest.Artifacts), rec.ManifestDigest, filepath.Join(args[2], manifest.ManifestFile))
	return nil
}

// verifyCmd needs no data folder and no network: everything comes from the bundle.
func verifyCmd(args []string, out io.Writer) error {
	if len(args) > 0 && (args[0] == "log" || args[0] == "proof") {
		return verifyAuditCmd(args, out)
	}
	if len(args) > 0 && args[0] == "packet" {
		return verifyPacketCmd(args, out)
	}
	if len(args) < 2 || args[0] != "manifest" || (len(args) != 2 && !(len(args) == 4 && args[2] == "--public-key")) {
		return fmt.Errorf("usage: aispm-reports verify manifest FILE [--public-key PEM]")
	}
	dir := args[1]
	if info, err := os.Stat(dir); err != nil {
		return err
	} else if !info.IsDir() {
		dir = filepath.Dir(dir)
	}
	var pinned []byte
	if len(args) == 4 {
		var err error
		if pinned, err = manifest.ReadPublicKeyPEM(args[3]); err != nil {
			return err
		}
	}
	res, err := manifest.Verify(os.DirFS(dir), pinned)
	if err != nil {
		return err
	}
	trust := "the bundle's own public key (pin one with --public-key)"
	if res.KeyPinned {
		trust = "the pinned public key"
	}
	fmt.Fprintf(out, "OK %s: manifest %s, %s signature by %s under %s, %d artifact digests match\n",
		res.PackageRef, res.ManifestDigest, res.Algorithm, res.KeyID, trust, res.Artifacts)
	return nil
}

// verifyPacketCmd checks a signed evidence packet or a GRC upload package offline.
func verifyPacketCmd(args []string, out io.Writer) error {
	if len(args) != 2 && !(len(args) == 4 && args[2] == "--public-key") {
		return fmt.Errorf("usage: aispm-reports verify packet FILE [--public-key PEM]")
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	var pinned []byte
	if len(args) == 4 {
		if pinned, err = manifest.ReadPublicKeyPEM(args[3]); err != nil {
			return err
		}
	}
	res, err := render.VerifySigned(data, pinned)
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	trust := "its own public key (pin one with --public-key)"
	if res.KeyPinned {
		trust = "the pinned public key"
	}
	detail := fmt.Sprintf("%d segment digests named", res.Segments)
	if res.Kind == render.GRCManifestSchema {
		detail = fmt.Sprintf("%d file digests match", res.Files)
	}
	fmt.Fprintf(out, "OK %s (%s): %s %s signature by %s under %s, %s\n",
		res.ReportID, res.Kind, res.Digest, res.Algorithm, res.KeyID, trust, detail)
	return nil
}
