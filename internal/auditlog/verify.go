package auditlog

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Bundle is bundle.json, the table of contents of an exported bundle (see docs/audit.md):
//
//	bundle.json          this document
//	public-key.pem       the tenant's checkpoint signing key (PKIX, PEM)
//	checkpoints/<n>.json signed checkpoints, n = tree size, zero-padded to 20 digits
//	segments/<a>-<b>.jsonl entries a..b, one canonical JSON entry per line
//	manifests/...        signed report manifests of the period, when there are any
type Bundle struct {
	SchemaVersion        string `json:"schema_version"`
	TenantRef            string `json:"tenant_ref"`
	CreatedAt            string `json:"created_at"`
	From                 string `json:"from,omitempty"`
	To                   string `json:"to,omitempty"`
	KeyID                string `json:"key_id"`
	Algorithm            string `json:"algorithm"`
	PublicKeyFingerprint string `json:"public_key_fingerprint"`
	// BaseCheckpoint is the checkpoint the bundle continues from when it does not start at
	// entry 0: its signed frontier and last entry hash stand in for the earlier entries.
	BaseCheckpoint string   `json:"base_checkpoint,omitempty"`
	Checkpoints    []string `json:"checkpoints"`
	Manifests      []string `json:"manifests"`
}

// Bundle file and folder names.
const (
	BundleFile     = "bundle.json"
	PublicKeyFile  = "public-key.pem"
	CheckpointsDir = "checkpoints"
	SegmentsDir    = "segments"
	ManifestsDir   = "manifests"
)

// Options tune a verification.
type Options struct {
	// PublicKey, when set (PKIX DER), is the key the auditor trusts; the bundle's own
	// public-key.pem must then be the same key.
	PublicKey []byte
	// Deep also checks every entry's canonical form and evidence record digest, which
	// costs a JSON parse per entry.
	Deep bool
}

// Report summarizes a bundle that verified.
type Report struct {
	TenantRef      string
	KeyFingerprint string
	Checkpoints    int
	Segments       int
	Entries        uint64
	FirstSeq       uint64
	TreeSize       uint64
	RootHash       string
	Bytes          int64
}

// Failure says what failed and where: the file, the line and the sequence number of the
// first bad entry when there is one.
type Failure struct {
	File   string
	Line   int   // 1-based line in a segment; 0 when not about a line
	Seq    int64 // the bad entry's sequence number; -1 when not about an entry
	Reason string
}

func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		fmt.Fprintf(&b, " line %d", f.Line)
	}
	if f.Seq >= 0 {
		fmt.Fprintf(&b, " (entry seq %d)", f.Seq)
	}
	b.WriteString(": ")
	b.WriteString(f.Reason)
	return b.String()
}

func fileFailure(file, format string, args ...any) *Failure {
	return &Failure{File: file, Seq: -1, Reason: fmt.Sprintf(format, args...)}
}

// VerifyBundle checks a bundle folder offline: every checkpoint's signature and its link
// to the one before, every segment's sequence and hash chain, and every checkpoint's
// Merkle root, frontier and last entry hash recomputed from the leaves. It streams each
// segment once, so memory stays flat whatever the log's size. The first failure is
// returned as a *Failure.
func VerifyBundle(dir string, opts Options) (Report, error) {
	v := &verifier{dir: dir, opts: opts, h: sha256.New()}
	if err := v.open(); err != nil {
		return Report{}, err
	}
	if err := v.run(); err != nil {
		return Report{}, err
	}
	return v.report, nil
}

type verifier struct {
	dir    string
	opts   Options
	bundle Bundle
	pub    []byte
	report Report

	h        hash.Hash
	frontier Frontier
	last     Hash // leaf hash of the last entry read (ZeroHash before entry 0)
	next     uint64
	prevFile []byte // the previous checkpoint's file bytes
	prevCP   *Checkpoint
	// lastLoc and prevLoc are where the last two entries read are, for reporting them.
	lastLoc, prevLoc location
}

type location struct {
	file string
	line int
}

func (v *verifier) open() error {
	raw, err := os.ReadFile(filepath.Join(v.dir, BundleFile))
	if err != nil {
		return fileFailure(BundleFile, "cannot read: %v", err)
	}
	if err := json.Unmarshal(raw, &v.bundle); err != nil || v.bundle.SchemaVersion != BundleSchema {
		return fileFailure(BundleFile, "not an %s document", BundleSchema)
	}
	pemBytes, err := os.ReadFile(filepath.Join(v.dir, PublicKeyFile))
	if err != nil {
		return fileFailure(PublicKeyFile, "cannot read: %v", err)
	}
	if v.pub, err = DecodePublicKey(pemBytes); err != nil {
		return fileFailure(PublicKeyFile, "%v", err)
	}
	if v.opts.PublicKey != nil && !bytes.Equal(v.opts.PublicKey, v.pub) {
		return fileFailure(PublicKeyFile, "key %s is not the trusted key %s", KeyFingerprint(v.pub), KeyFingerprint(v.opts.PublicKey))
	}
	v.report = Report{TenantRef: v.bundle.TenantRef, KeyFingerprint: KeyFingerprint(v.pub), RootHash: EmptyRoot.String()}
	return v.checkListing()
}

// checkListing makes the folder and bundle.json agree: a checkpoint or segment file that
// bundle.json does not account for, or one it lists that is missing, is a failure.
func (v *verifier) checkListing() error {
	names, err := listDir(filepath.Join(v.dir, CheckpointsDir))
	if err != nil {
		return fileFailure(CheckpointsDir, "cannot list: %v", err)
	}
	want := slices.Clone(v.bundle.Checkpoints)
	if v.bundle.BaseCheckpoint != "" {
		want = append(want, v.bundle.BaseCheckpoint)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		return fileFailure(CheckpointsDir, "holds %v but %s lists %v: checkpoints were added or removed", names, BundleFile, want)
	}
	if !slices.IsSorted(v.bundle.Checkpoints) {
		return fileFailure(BundleFile, "checkpoints are not listed in tree-size order")
	}
	return nil
}

func listDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names, nil
}

func (v *verifier) run() error {
	if err := v.start(); err != nil {
		return err
	}
	segs := map[string]bool{}
	for _, name := range v.bundle.Checkpoints {
		cp, err := v.checkpoint(name)
		if err != nil {
			return err
		}
		segs[cp.Segment.Name] = true
		if err := v.segment(cp); err != nil {
			return err
		}
		if err := v.sealed(name, cp); err != nil {
			return err
		}
	}
	names, err := listDir(filepath.Join(v.dir, SegmentsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fileFailure(SegmentsDir, "cannot list: %v", err)
	}
	for _, n := range names {
		if !segs[n] {
			return fileFailure(SegmentsDir+"/"+n, "no checkpoint in the bundle seals this segment")
		}
	}
	v.report.Segments = len(segs)
	return nil
}

// start sets the chain's starting state: empty, or the base checkpoint's signed state.
func (v *verifier) start() error {
	v.report.FirstSeq = 0
	if v.bundle.BaseCheckpoint == "" {
		return nil
	}
	file := CheckpointsDir + "/" + v.bundle.BaseCheckpoint
	raw, cp, err := v.readCheckpoint(v.bundle.BaseCheckpoint)
	if err != nil {
		return err
	}
	if v.frontier, err = ParseFrontier(cp.TreeSize, cp.Frontier); err != nil {
		return fileFailure(file, "%v", err)
	}
	if got := v.frontier.Root().String(); got != cp.RootHash {
		return fileFailure(file, "its frontier gives root %s, not the signed root %s", got, cp.RootHash)
	}
	if v.last, err = ParseHash(cp.LastEntryHash); err != nil {
		return fileFailure(file, "last_entry_hash: %v", err)
	}
	v.next, v.prevFile, v.prevCP = cp.TreeSize, raw, &cp
	v.report.FirstSeq, v.report.TreeSize, v.report.RootHash = cp.TreeSize, cp.TreeSize, cp.RootHash
	v.lastLoc = location{file: file}
	return nil
}

func (v *verifier) readCheckpoint(name string) ([]byte, Checkpoint, error) {
	file := CheckpointsDir + "/" + name
	raw, err := os.ReadFile(filepath.Join(v.dir, CheckpointsDir, name))
	if err != nil {
		return nil, Checkpoint{}, fileFailure(file, "cannot read: %v", err)
	}
	cp, err := ParseCheckpoint(raw)
	if err != nil {
		return nil, Checkpoint{}, fileFailure(file, "%v", err)
	}
	switch {
	case name != CheckpointName(cp.TreeSize):
		return nil, cp, fileFailure(file, "holds the checkpoint of tree size %d (file renamed or swapped)", cp.TreeSize)
	case cp.TenantRef != v.bundle.TenantRef:
		return nil, cp, fileFailure(file, "is a checkpoint of %s, not %s", cp.TenantRef, v.bundle.TenantRef)
	}
	if err := cp.VerifySignature(v.pub); err != nil {
		return nil, cp, fileFailure(file, "%v", err)
	}
	v.report.Checkpoints++
	return raw, cp, nil
}

// checkpoint reads and checks one checkpoint and its link to the previous one.
func (v *verifier) checkpoint(name string) (Checkpoint, error) {
	file := CheckpointsDir + "/" + name
	raw, cp, err := v.readCheckpoint(name)
	if err != nil {
		return cp, err
	}
	wantPrev, wantPrevSize := ZeroHash.String(), uint64(0)
	if v.prevCP != nil {
		wantPrev, wantPrevSize = FileHash(v.prevFile).String(), v.prevCP.TreeSize
	}
	s := cp.Segment
	switch {
	case cp.PrevCheckpointHash != wantPrev:
		return cp, fileFailure(file, "prev_checkpoint_hash %s is not the hash of the checkpoint before it (%s): a checkpoint was replaced or removed", cp.PrevCheckpointHash, wantPrev)
	case cp.PrevTreeSize != wantPrevSize || s.FirstSeq != wantPrevSize:
		return cp, fileFailure(file, "continues from tree size %d (segment from seq %d), but the log so far has %d entries", cp.PrevTreeSize, s.FirstSeq, wantPrevSize)
	case s.Count == 0 || cp.TreeSize != s.FirstSeq+s.Count:
		return cp, fileFailure(file, "tree size %d does not equal first seq %d plus %d sealed entries", cp.TreeSize, s.FirstSeq, s.Count)
	case s.Name != SegmentName(s.FirstSeq, s.Count):
		return cp, fileFailure(file, "names segment %q, want %q", s.Name, SegmentName(s.FirstSeq, s.Count))
	}
	v.prevFile, v.prevCP = raw, &cp
	return cp, nil
}

// sealed compares the state after a segment with what its checkpoint signed.
func (v *verifier) sealed(name string, cp Checkpoint) error {
	file := CheckpointsDir + "/" + name
	if got := v.frontier.Root().String(); got != cp.RootHash {
		return fileFailure(file, "Merkle root recomputed over entries 0..%d is %s, the checkpoint signed %s: entries of segment %s were rewritten (their hash chain was rebuilt to match)",
			cp.TreeSize-1, got, cp.RootHash, cp.Segment.Name)
	}
	if !slices.Equal(v.frontier.Strings(), cp.Frontier) {
		return fileFailure(file, "frontier differs from the one recomputed from the entries")
	}
	v.report.TreeSize, v.report.RootHash = cp.TreeSize, cp.RootHash
	return nil
}

// segment streams one segment's lines, checking sequence numbers and the hash chain, and
// adds each leaf to the frontier.
func (v *verifier) segment(cp Checkpoint) error {
	file := SegmentsDir + "/" + cp.Segment.Name
	f, err := os.Open(filepath.Join(v.dir, SegmentsDir, cp.Segment.Name))
	if err != nil {
		return &Failure{File: file, Seq: int64(cp.Segment.FirstSeq), Reason: fmt.Sprintf("segment sealed by checkpoint %d is missing: %v", cp.TreeSize, err)}
	}
	defer f.Close()
	sc := segmentScanner{r: bufio.NewReaderSize(f, 1<<20)}
	end := cp.Segment.FirstSeq + cp.Segment.Count
	var hexBuf [hashLen]byte
	copy(hexBuf[:], "sha256:")
	brokenAt := int64(-1)
	for line := 1; ; line++ {
		b, err := sc.next()
		if err == io.EOF {
			break
		}
		v.report.Bytes += int64(len(b)) + 1
		if err != nil {
			return &Failure{File: file, Line: line, Seq: int64(v.next), Reason: "segment ends in the middle of an entry: the file was truncated"}
		}
		if v.next >= end {
			return &Failure{File: file, Line: line, Seq: int64(v.next), Reason: fmt.Sprintf("segment holds more than the %d entries checkpoint %d sealed", cp.Segment.Count, cp.TreeSize)}
		}
		prev, seq, err := chainFields(b)
		if err != nil {
			return v.badEntry(file, line, int64(v.next), b, err)
		}
		if seq != v.next {
			return &Failure{File: file, Line: line, Seq: int64(v.next), Reason: seqReason(seq, v.next)}
		}
		if v.opts.Deep {
			if err := CheckEntry(b, v.bundle.TenantRef); err != nil {
				return &Failure{File: file, Line: line, Seq: int64(seq), Reason: err.Error()}
			}
		}
		hex.Encode(hexBuf[7:], v.last[:])
		linkOK := bytes.Equal(prev, hexBuf[:])
		leaf := v.leaf(b)
		if brokenAt >= 0 {
			return v.blame(brokenAt, linkOK)
		}
		if !linkOK {
			brokenAt = int64(seq)
		}
		v.frontier.Append(leaf)
		v.last, v.next = leaf, v.next+1
		v.prevLoc, v.lastLoc = v.lastLoc, location{file, line}
		v.report.Entries++
	}
	if v.next != end {
		return &Failure{File: file, Seq: int64(v.next), Reason: fmt.Sprintf("segment ends after seq %d, but checkpoint %d sealed entries up to seq %d: the segment was truncated", int64(v.next)-1, cp.TreeSize, end-1)}
	}
	if brokenAt >= 0 {
		return v.blame(brokenAt, v.last.String() == cp.LastEntryHash)
	}
	if v.last.String() != cp.LastEntryHash {
		return v.badEntry(v.lastLoc.file, v.lastLoc.line, int64(end-1), nil,
			fmt.Errorf("the last entry's hash differs from last_entry_hash signed by checkpoint %d: this entry was changed, or entries before it were rewritten with their chain rebuilt", cp.TreeSize))
	}
	return nil
}

func seqReason(got, want uint64) string {
	if got > want {
		return fmt.Sprintf("found seq %d where seq %d was expected: entry %d was removed or entries were reordered", got, want, want)
	}
	return fmt.Sprintf("found seq %d where seq %d was expected: an entry was duplicated or entries were reordered", got, want)
}

// blame attributes a broken chain link into entry b, the last entry read. The entry after b
// (or the checkpoint's last_entry_hash when b is last) tells whether b is intact: if it
// still records b's hash, b is intact and the entry before it was changed; otherwise b
// itself was.
func (v *verifier) blame(b int64, bIntact bool) error {
	if bIntact && b > int64(v.report.FirstSeq) {
		return v.badEntry(v.prevLoc.file, v.prevLoc.line, b-1, nil,
			fmt.Errorf("the entry's bytes no longer hash to the chain_prev_hash recorded by entry %d", b))
	}
	return v.badEntry(v.lastLoc.file, v.lastLoc.line, b, nil,
		fmt.Errorf("chain_prev_hash does not match the hash of entry %d", b-1))
}

// badEntry reports an entry with the most specific reason CheckEntry can give.
func (v *verifier) badEntry(file string, line int, seq int64, b []byte, fallback error) error {
	if b == nil && strings.HasPrefix(file, SegmentsDir+"/") {
		b = readLine(filepath.Join(v.dir, filepath.FromSlash(file)), line)
	}
	reason := fallback.Error()
	if b != nil {
		if err := CheckEntry(b, v.bundle.TenantRef); err != nil {
			reason = err.Error() + " (" + reason + ")"
		}
	}
	return &Failure{File: file, Line: line, Seq: seq, Reason: reason}
}

func (v *verifier) leaf(b []byte) Hash {
	v.h.Reset()
	v.h.Write([]byte{0})
	v.h.Write(b)
	var out Hash
	v.h.Sum(out[:0])
	return out
}

// segmentScanner yields lines without their newline; a last line without one is an error.
type segmentScanner struct {
	r    *bufio.Reader
	long []byte
}

var errPartialLine = errors.New("partial line")

func (s *segmentScanner) next() ([]byte, error) {
	b, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// An entry longer than the buffer: gather it (rare; evidence records are small).
		s.long = append(s.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = s.r.ReadSlice('\n')
			s.long = append(s.long, b...)
		}
		b = s.long
	}
	switch {
	case err == io.EOF && len(b) == 0:
		return nil, io.EOF
	case err == io.EOF:
		return b, errPartialLine
	case err != nil:
		return nil, err
	}
	return b[:len(b)-1], nil
}

// readLine returns line n (1-based) of a file, or nil.
func readLine(path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := segmentScanner{r: bufio.NewReaderSize(f, 1<<20)}
	for i := 1; ; i++ {
		b, err := sc.next()
		if err != nil && !errors.Is(err, errPartialLine) {
			return nil
		}
		if i == n {
			return bytes.Clone(b)
		}
		if err != nil {
			return nil
		}
	}
}
