// Package wormfs is the embedded objectstore adapter: a versioned WORM store on the local
// filesystem that enforces the same Object Lock rules as S3, for `make run` without cloud.
//
// Layout under root:
//
//	tmp/                       bodies being written (removed on Open)
//	objects/<sha256(key)>/     one directory per key (hashed: keys may be 1024 bytes)
//	    <version>.data         the bytes, mode 0444, never rewritten
//	    <version>.json         the sidecar (key, digest, retention, hold...), mode 0444,
//	                           replaced whole by rename when retention or hold change
//
// Every file is written to a temp file, fsynced, then renamed into place, and the directory
// is fsynced: a crash leaves either the old state or the new one. The sidecar is renamed
// last, so a version exists exactly when its sidecar does; a crash before that leaves only
// an unreferenced .data file. One process owns a root at a time (the local server).
package wormfs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

var _ objectstore.Store = (*Store)(nil)

// versionRE matches the ids this store issues; anything else cannot name a version here
// and must never reach a file path.
var versionRE = regexp.MustCompile(`^[0-9]{10}-[0-9a-f]{16}$`)

// Store is a filesystem objectstore.Store.
type Store struct {
	root    string
	baseURL string
	hmacKey []byte
	clk     clock.Clock
	// mu orders the check-then-write steps (Put's existence check, retention changes,
	// deletes) within the owning process.
	mu sync.RWMutex
	// guard checks presigned downloads against the product's records (SetDownloadGuard).
	guard DownloadGuard
}

// sidecar is the JSON metadata of one version.
type sidecar struct {
	Key         string            `json:"key"`
	VersionID   string            `json:"versionId"`
	Seq         int64             `json:"seq"`
	Size        int64             `json:"size"`
	ContentType string            `json:"contentType,omitempty"`
	Digest      string            `json:"digest"`
	Mode        string            `json:"retentionMode,omitempty"`
	Until       time.Time         `json:"retainUntil,omitzero"`
	LegalHold   bool              `json:"legalHold"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Created     time.Time         `json:"created"`
}

// Open opens (creating if needed) a store under root. baseURL is where Handler is served
// (without the /_objects/ suffix); hmacKey signs presigned URLs and must be at least 32
// bytes of secret; clk is the time retention and URL expiry are judged by.
func Open(root, baseURL string, hmacKey []byte, clk clock.Clock) (*Store, error) {
	if len(hmacKey) < 32 {
		return nil, fmt.Errorf("wormfs: hmac key is %d bytes, need at least 32", len(hmacKey))
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("wormfs: base URL %q must be absolute: %v", baseURL, err)
	}
	for _, d := range []string{"objects", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("wormfs: create %s: %w", d, err)
		}
	}
	// Bodies left in tmp by a crash never became versions.
	if err := os.RemoveAll(filepath.Join(root, "tmp")); err != nil {
		return nil, fmt.Errorf("wormfs: clear tmp: %w", err)
	}
	if err := os.Mkdir(filepath.Join(root, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("wormfs: create tmp: %w", err)
	}
	return &Store{root: root, baseURL: strings.TrimRight(baseURL, "/"), hmacKey: append([]byte(nil), hmacKey...), clk: clk}, nil
}

// Put stores a new key; an existing key is ErrExists.
func (s *Store) Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error) {
	return s.put(ctx, in, false)
}

// put writes one version; addVersion lets tests make a second version of a key, which
// only a writer outside the port could do.
func (s *Store) put(ctx context.Context, in objectstore.PutInput, addVersion bool) (objectstore.Info, error) {
	if err := objectstore.ValidatePut(in, s.clk.Now()); err != nil {
		return objectstore.Info{}, fmt.Errorf("wormfs: %w", err)
	}
	// Stream the body outside the lock; only the commit is serialised.
	tmp, size, digest, err := s.spool(ctx, in.Body)
	if err != nil {
		return objectstore.Info{}, fmt.Errorf("wormfs: put %q: %w", in.Key, err)
	}
	defer os.Remove(tmp) // no-op once renamed into place

	s.mu.Lock()
	defer s.mu.Unlock()
	versions, err := s.versions(in.Key)
	if err != nil {
		return objectstore.Info{}, err
	}
	if len(versions) > 0 && !addVersion {
		return objectstore.Info{}, fmt.Errorf("wormfs: put %q: %w", in.Key, objectstore.ErrExists)
	}
	sc, err := s.newSidecar(in, versions, size, digest)
	if err != nil {
		return objectstore.Info{}, err
	}
	if err := s.commit(tmp, sc); err != nil {
		return objectstore.Info{}, fmt.Errorf("wormfs: put %q: %w", in.Key, err)
	}
	return sc.info(), nil
}

func (s *Store) newSidecar(in objectstore.PutInput, versions []sidecar, size int64, digest string) (sidecar, error) {
	var seq int64 = 1
	if len(versions) > 0 {
		seq = versions[0].Seq + 1
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return sidecar{}, fmt.Errorf("wormfs: version id: %w", err)
	}
	sc := sidecar{
		Key: in.Key, VersionID: fmt.Sprintf("%010d-%s", seq, hex.EncodeToString(rnd[:])), Seq: seq,
		Size: size, ContentType: in.ContentType, Digest: digest,
		LegalHold: in.LegalHold, Metadata: copyMeta(in.Metadata), Created: s.clk.Now().UTC(),
	}
	if sc.ContentType == "" {
		sc.ContentType = objectstore.DefaultContentType
	}
	if !in.Retention.Until.IsZero() {
		sc.Mode, sc.Until = string(in.Retention.Mode), truncUntil(in.Retention.Until)
	}
	return sc, nil
}

// spool copies body into a synced, read-only temp file and returns its path, size and digest.
func (s *Store) spool(ctx context.Context, body io.Reader) (string, int64, string, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "body-*")
	if err != nil {
		return "", 0, "", fmt.Errorf("create temp: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, body})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o444)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, "", fmt.Errorf("write body: %w", err)
	}
	return f.Name(), n, objectstore.Digest(h.Sum(nil)), nil
}

// commit moves the body into the key's directory, then writes the sidecar that makes the
// version exist.
func (s *Store) commit(tmp string, sc sidecar) error {
	dir := s.keyDir(sc.Key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create key dir: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, sc.VersionID+".data")); err != nil {
		return fmt.Errorf("place body: %w", err)
	}
	return s.writeSidecar(sc)
}

// writeSidecar replaces a version's sidecar atomically.
func (s *Store) writeSidecar(sc sidecar) error {
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sidecar: %w", err)
	}
	return atomicfile.Write(filepath.Join(s.keyDir(sc.Key), sc.VersionID+".json"), b, 0o444)
}

// Get opens a version's bytes; the caller closes them. The bytes are checked against the
// sidecar's digest and size as they are read (as S3 checks its stored checksum), so a data
// file changed on disk ends in ErrIntegrity. A sidecar whose data file is gone is
// ErrNotFound: the version's bytes no longer exist.
func (s *Store) Get(ctx context.Context, key, versionID string) (io.ReadCloser, objectstore.Info, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sc, err := s.resolve(ctx, key, versionID)
	if err != nil {
		return nil, objectstore.Info{}, err
	}
	f, err := os.Open(s.dataPath(sc))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, objectstore.Info{}, fmt.Errorf("wormfs: %q@%s: data file missing: %w", key, sc.VersionID, objectstore.ErrNotFound)
	}
	if err != nil {
		return nil, objectstore.Info{}, fmt.Errorf("wormfs: open %q@%s: %w", key, sc.VersionID, err)
	}
	return objectstore.NewVerifyingReader(f, key, sc.VersionID, sc.Digest, sc.Size), sc.info(), nil
}

func (s *Store) dataPath(sc sidecar) string {
	return filepath.Join(s.keyDir(sc.Key), sc.VersionID+".data")
}

// Head describes a version.
func (s *Store) Head(ctx context.Context, key, versionID string) (objectstore.Info, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sc, err := s.resolve(ctx, key, versionID)
	return sc.info(), err
}

// ListVersions lists every version under prefix by key, newest first. It reads every
// key's sidecars, since directory names are hashes: fine at embedded scale.
func (s *Store) ListVersions(ctx context.Context, prefix string) ([]objectstore.Info, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	dirs, err := os.ReadDir(filepath.Join(s.root, "objects"))
	if err != nil {
		return nil, fmt.Errorf("wormfs: list: %w", err)
	}
	var out []objectstore.Info
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vs, err := s.readDir(filepath.Join(s.root, "objects", d.Name()))
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 || !strings.HasPrefix(vs[0].Key, prefix) {
			continue
		}
		for _, v := range vs {
			out = append(out, v.info())
		}
	}
	// Stable: within a key, readDir already ordered newest first.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// SetLegalHold turns a version's legal hold on or off.
func (s *Store) SetLegalHold(ctx context.Context, key, versionID string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.resolve(ctx, key, versionID)
	if err != nil {
		return err
	}
	sc.LegalHold = on
	if err := s.writeSidecar(sc); err != nil {
		return fmt.Errorf("wormfs: legal hold %q@%s: %w", key, sc.VersionID, err)
	}
	return nil
}

// SetRetention extends a version's retention; shortening one in force is ErrLocked.
func (s *Store) SetRetention(ctx context.Context, key, versionID string, r objectstore.Retention) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.resolve(ctx, key, versionID)
	if err != nil {
		return err
	}
	noop, err := objectstore.CheckRetentionChange(sc.retention(), r, s.clk.Now())
	if err != nil || noop {
		return wrapErr("set retention", key, sc.VersionID, err)
	}
	sc.Mode, sc.Until = string(r.Mode), truncUntil(r.Until)
	if err := s.writeSidecar(sc); err != nil {
		return fmt.Errorf("wormfs: set retention %q@%s: %w", key, sc.VersionID, err)
	}
	return nil
}

// DeleteVersion removes a version for good unless retention or legal hold lock it.
func (s *Store) DeleteVersion(ctx context.Context, key, versionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.resolve(ctx, key, versionID)
	if err != nil {
		return err
	}
	if sc.LegalHold {
		return fmt.Errorf("wormfs: delete %q@%s: legal hold: %w", key, sc.VersionID, objectstore.ErrLocked)
	}
	if r := sc.retention(); r.InForce(s.clk.Now()) {
		return fmt.Errorf("wormfs: delete %q@%s: %s retention until %s: %w",
			key, sc.VersionID, r.Mode, r.Until.Format(time.RFC3339), objectstore.ErrLocked)
	}
	return s.remove(sc)
}

// remove deletes the sidecar first: from then on the version does not exist, even if the
// data file removal is interrupted.
func (s *Store) remove(sc sidecar) error {
	dir := s.keyDir(sc.Key)
	for _, name := range []string{sc.VersionID + ".json", sc.VersionID + ".data"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("wormfs: delete %q@%s: %w", sc.Key, sc.VersionID, err)
		}
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("wormfs: delete %q@%s: %w", sc.Key, sc.VersionID, err)
	}
	// Drop the key directory with its last version, so the key no longer exists for Put;
	// it fails harmlessly while other files remain.
	_ = os.Remove(dir)
	return nil
}

// resolve finds a version's sidecar; an empty versionID means the newest.
func (s *Store) resolve(ctx context.Context, key, versionID string) (sidecar, error) {
	if err := ctx.Err(); err != nil {
		return sidecar{}, err
	}
	if err := objectstore.ValidateKey(key); err != nil {
		return sidecar{}, fmt.Errorf("wormfs: %w", err)
	}
	if versionID == "" {
		vs, err := s.versions(key)
		if err != nil {
			return sidecar{}, err
		}
		if len(vs) == 0 {
			return sidecar{}, fmt.Errorf("wormfs: %q: %w", key, objectstore.ErrNotFound)
		}
		return vs[0], nil
	}
	if !versionRE.MatchString(versionID) {
		return sidecar{}, fmt.Errorf("wormfs: %q@%s: %w", key, versionID, objectstore.ErrNotFound)
	}
	sc, err := readSidecar(filepath.Join(s.keyDir(key), versionID+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return sidecar{}, fmt.Errorf("wormfs: %q@%s: %w", key, versionID, objectstore.ErrNotFound)
	}
	return sc, err
}

// versions returns a key's versions, newest first.
func (s *Store) versions(key string) ([]sidecar, error) { return s.readDir(s.keyDir(key)) }

func (s *Store) readDir(dir string) ([]sidecar, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wormfs: read %s: %w", dir, err)
	}
	var out []sidecar
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || !versionRE.MatchString(strings.TrimSuffix(name, ".json")) {
			continue // temp files and orphaned bodies
		}
		sc, err := readSidecar(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq > out[j].Seq })
	return out, nil
}

func readSidecar(path string) (sidecar, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sidecar{}, fmt.Errorf("wormfs: read sidecar: %w", err)
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		return sidecar{}, fmt.Errorf("wormfs: decode sidecar %s: %w", path, err)
	}
	return sc, nil
}

func (s *Store) keyDir(key string) string {
	h := sha256.Sum256([]byte(key))
	return filepath.Join(s.root, "objects", hex.EncodeToString(h[:]))
}

func (sc sidecar) retention() objectstore.Retention {
	return objectstore.Retention{Mode: objectstore.RetentionMode(sc.Mode), Until: sc.Until}
}

func (sc sidecar) info() objectstore.Info {
	if sc.VersionID == "" {
		return objectstore.Info{}
	}
	return objectstore.Info{
		Key: sc.Key, VersionID: sc.VersionID, Size: sc.Size, ContentType: sc.ContentType,
		Digest: sc.Digest, Retention: sc.retention(), LegalHold: sc.LegalHold,
		Metadata: copyMeta(sc.Metadata), Created: sc.Created,
	}
}

func wrapErr(op, key, vid string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("wormfs: %s %q@%s: %w", op, key, vid, err)
}

// truncUntil keeps the millisecond precision S3 keeps, so both adapters report the same date.
func truncUntil(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func copyMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return map[string]string{}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
