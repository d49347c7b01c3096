package render

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/sealed"
)

// Sources is what the outputs that are more than their document need: the snapshot's
// segments (the SIEM lines are the events themselves, the packet lists the segments'
// digests) and the tenant's signing key.
type Sources struct {
	Objects  Objects
	Snapshot Snapshot
	Window   Window
	Signer   sealed.Signer
}

// Report ids whose public format is more than the document.
const (
	SignedPacketReport = "signed_json_evidence_packet"
	SIEMReport         = "siem_jsonl_export"
	GRCPackageReport   = "grc_upload_package"
)

// Seal purposes and layouts of the signed outputs.
const (
	PacketSchema      = "aispm.signed_evidence_packet.v1"
	GRCManifestSchema = "aispm.grc_upload_manifest.v1"
	GRCManifestFile   = "manifest.json"
	GRCSealFile       = "manifest.seal.json"
)

// WriteReport renders doc in format name. Three public reports are more than their
// document in their public format: the signed evidence packet, the SIEM lines and the GRC
// upload package; every other report and format is Write.
func WriteReport(ctx context.Context, doc Document, name string, zipOf []string, src Sources) ([]byte, error) {
	switch {
	case doc.ReportID == SignedPacketReport && name == "json":
		return writeSignedPacket(ctx, doc, src)
	case doc.ReportID == SIEMReport && name == "jsonl":
		return writeSIEM(ctx, doc, src)
	case doc.ReportID == GRCPackageReport && name == "zip":
		return writeGRCPackage(ctx, doc, src)
	}
	return Write(doc, name, zipOf)
}

// SignedHeader says what a signed output covers: which report, template, tenant, window
// and data snapshot.
type SignedHeader struct {
	SchemaVersion   string `json:"schema_version"`
	ReportID        string `json:"report_id"`
	TemplateVersion string `json:"template_version"`
	TenantRef       string `json:"tenant_ref"`
	WindowFrom      string `json:"window_from"`
	WindowTo        string `json:"window_to"`
	SnapshotRef     string `json:"data_snapshot_ref"`
}

func signedHeader(schema string, doc Document) SignedHeader {
	return SignedHeader{SchemaVersion: schema, ReportID: doc.ReportID, TemplateVersion: doc.TemplateVersion,
		TenantRef: doc.Meta.TenantRef, WindowFrom: doc.Meta.From, WindowTo: doc.Meta.To, SnapshotRef: doc.Meta.SnapshotRef}
}

// Packet is the signed part of the evidence packet.
type Packet struct {
	SignedHeader
	Segments []PacketSegment `json:"segments"`
	Document Document        `json:"document"`
}

// PacketSegment names one stored segment the aggregates were computed from.
type PacketSegment struct {
	SegmentRef string `json:"segment_ref"`
	Day        string `json:"day"`
	Events     int    `json:"events"`
	Digest     string `json:"digest"`
}

// SignedPacket is the file: the packet and its seal.
type SignedPacket struct {
	Packet Packet      `json:"packet"`
	Seal   sealed.Seal `json:"seal"`
}

func writeSignedPacket(ctx context.Context, doc Document, src Sources) ([]byte, error) {
	if src.Signer == nil {
		return nil, fmt.Errorf("render %s: no signing key", doc.ReportID)
	}
	p := Packet{SignedHeader: signedHeader(PacketSchema, doc), Segments: make([]PacketSegment, len(src.Snapshot.Segments)), Document: doc}
	for i, s := range src.Snapshot.Segments {
		p.Segments[i] = PacketSegment{SegmentRef: s.SegmentRef, Day: s.Day, Events: s.Events, Digest: s.Digest}
	}
	canonical, err := canonjson.Marshal(p)
	if err != nil {
		return nil, err
	}
	seal, err := sealed.Make(ctx, src.Signer, PacketSchema, canonical)
	if err != nil {
		return nil, err
	}
	out, err := canonjson.Marshal(SignedPacket{Packet: p, Seal: seal})
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// GRCManifest lists every file of the GRC upload package with its digest.
type GRCManifest struct {
	SignedHeader
	Files []GRCFile `json:"files"`
}

// GRCFile is one file of the package.
type GRCFile struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
	Size   int    `json:"size_bytes"`
}

// writeGRCPackage zips one rectangular CSV per table (what GRC tools import), the document
// as JSON, the manifest of their digests and the manifest's seal.
func writeGRCPackage(ctx context.Context, doc Document, src Sources) ([]byte, error) {
	if src.Signer == nil {
		return nil, fmt.Errorf("render %s: no signing key", doc.ReportID)
	}
	files, err := grcFiles(doc)
	if err != nil {
		return nil, err
	}
	m := GRCManifest{SignedHeader: signedHeader(GRCManifestSchema, doc)}
	for _, f := range files {
		m.Files = append(m.Files, GRCFile{Path: f.path, Digest: canonjson.Digest(f.body), Size: len(f.body)})
	}
	manifest, err := canonjson.Marshal(m)
	if err != nil {
		return nil, err
	}
	seal, err := sealed.Make(ctx, src.Signer, GRCManifestSchema, manifest)
	if err != nil {
		return nil, err
	}
	sealBytes, err := json.MarshalIndent(seal, "", "  ")
	if err != nil {
		return nil, err
	}
	files = append(files, zipFile{GRCManifestFile, manifest}, zipFile{GRCSealFile, sealBytes})
	return zipFiles(doc, files)
}

type zipFile struct {
	path string
	body []byte
}

func grcFiles(doc Document) ([]zipFile, error) {
	report, err := writeJSON(doc)
	if err != nil {
		return nil, err
	}
	files := []zipFile{{"report.json", report}}
	for _, t := range doc.Tables {
		body, err := tableCSV(t)
		if err != nil {
			return nil, err
		}
		files = append(files, zipFile{"tables/" + t.ID + ".csv", body})
	}
	return files, nil
}

func tableCSV(t Table) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(t.Columns)
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = cell(v)
		}
		_ = w.Write(cells)
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// zipFiles writes entries in the given order with the document's as-of time, so the
// archive's bytes are stable.
func zipFiles(doc Document, files []zipFile) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.path, Method: zip.Deflate, Modified: doc.AsOf()})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
