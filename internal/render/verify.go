package render

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/sealed"
)

// Verified is what an offline check of a signed output established.
type Verified struct {
	Kind      string // PacketSchema or GRCManifestSchema
	ReportID  string
	Digest    string // of the packet or the manifest
	KeyID     string
	Algorithm string
	KeyPinned bool
	Files     int // files whose digests matched (GRC package)
	Segments  int // segments the packet names
}

// VerifySigned checks a signed evidence packet (JSON) or a GRC upload package (zip) offline:
// the seal over the canonical packet or manifest, under pinned (PKIX DER) when given, and
// for a package every file's size and digest, with no file unlisted.
func VerifySigned(data, pinned []byte) (Verified, error) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return verifyGRCPackage(data, pinned)
	}
	return verifyPacket(data, pinned)
}

func verifyPacket(data, pinned []byte) (Verified, error) {
	var sp SignedPacket
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return Verified{}, fmt.Errorf("not a signed evidence packet: %w", err)
	}
	// The packet is re-canonicalised from its own bytes, not from the decoded struct, so a
	// field the struct would drop or reshape still counts.
	var raw struct {
		Packet json.RawMessage `json:"packet"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Verified{}, err
	}
	canonical, err := canonjson.Canonicalize(raw.Packet)
	if err != nil {
		return Verified{}, err
	}
	pinnedUsed, err := sp.Seal.Verify(PacketSchema, canonical, pinned)
	if err != nil {
		return Verified{}, err
	}
	return Verified{Kind: PacketSchema, ReportID: sp.Packet.ReportID, Digest: sp.Seal.Digest, KeyID: sp.Seal.KeyID,
		Algorithm: sp.Seal.Algorithm, KeyPinned: pinnedUsed, Segments: len(sp.Packet.Segments)}, nil
}

func verifyGRCPackage(data, pinned []byte) (Verified, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Verified{}, fmt.Errorf("not a zip: %w", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return Verified{}, fmt.Errorf("package holds %s twice", f.Name)
		}
		b, err := readZipFile(f)
		if err != nil {
			return Verified{}, err
		}
		files[f.Name] = b
	}
	manifestBytes, sealBytes := files[GRCManifestFile], files[GRCSealFile]
	if manifestBytes == nil || sealBytes == nil {
		return Verified{}, fmt.Errorf("package lacks %s or %s", GRCManifestFile, GRCSealFile)
	}
	var seal sealed.Seal
	if err := json.Unmarshal(sealBytes, &seal); err != nil {
		return Verified{}, fmt.Errorf("%s: %w", GRCSealFile, err)
	}
	pinnedUsed, err := seal.Verify(GRCManifestSchema, manifestBytes, pinned)
	if err != nil {
		return Verified{}, err
	}
	var m GRCManifest
	if err := json.Unmarshal(manifestBytes, &m); err != nil {
		return Verified{}, fmt.Errorf("%s: %w", GRCManifestFile, err)
	}
	if err := checkGRCFiles(m, files); err != nil {
		return Verified{}, err
	}
	return Verified{Kind: GRCManifestSchema, ReportID: m.ReportID, Digest: seal.Digest, KeyID: seal.KeyID,
		Algorithm: seal.Algorithm, KeyPinned: pinnedUsed, Files: len(m.Files)}, nil
}

// checkGRCFiles: every listed file is there with its size and digest, and nothing else is.
func checkGRCFiles(m GRCManifest, files map[string][]byte) error {
	listed := []string{GRCManifestFile, GRCSealFile}
	for _, f := range m.Files {
		b, ok := files[f.Path]
		if !ok {
			return fmt.Errorf("%s is listed but missing", f.Path)
		}
		if len(b) != f.Size || canonjson.Digest(b) != f.Digest {
			return fmt.Errorf("%s does not match its manifest digest", f.Path)
		}
		listed = append(listed, f.Path)
	}
	for name := range files {
		if !slices.Contains(listed, name) {
			return fmt.Errorf("%s is in the package but not in its manifest", name)
		}
	}
	return nil
}

// maxZipEntry bounds what verification reads of one entry (a zip bomb stops here).
const maxZipEntry = 256 << 20

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxZipEntry+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if len(b) > maxZipEntry {
		return nil, fmt.Errorf("%s is larger than %d bytes", f.Name, maxZipEntry)
	}
	return b, nil
}
