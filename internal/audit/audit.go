// Package audit is the audit writer: it turns the evidence records that reach the item
// store's change feed into each tenant's append-only, hash-chained log, seals the log into
// WORM segments with signed Merkle checkpoints, and serves inclusion proofs and offline
// bundles. The log's format and its offline verification live in package auditlog.
//
// What is authoritative, and why a crash loses nothing:
//   - An entry exists once its transaction commits: the entry item, a dedupe item for its
//     evidence ref and the head (next sequence number, last entry hash) are written together,
//     the head under a version condition. A re-delivered record finds its dedupe item and is
//     skipped; two writers racing for a tenant cannot both take a sequence number.
//   - Entries stay in the item store after sealing (proofs are computed from them); the WORM
//     segments and checkpoints are the immutable copy an auditor receives.
//   - Sealing first records a lease naming the exact range it will seal in the seal item,
//     then writes the segment and the checkpoint (both at keys derived from the range), then
//     commits the new sealed size. A sealer that crashes leaves the lease; the next one, once
//     the lease has expired, seals the same range again: the segment bytes are identical and
//     an existing checkpoint is verified and adopted, so a retry never forks the log.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// Items is the part of the item store the writer needs.
type Items interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Put(ctx context.Context, w itemstore.Write) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Objects is the part of the WORM object store the writer needs.
type Objects interface {
	Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error)
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, objectstore.Info, error)
	Head(ctx context.Context, key, versionID string) (objectstore.Info, error)
	ListVersions(ctx context.Context, prefix string) ([]objectstore.Info, error)
}

// Policy is a tenant's audit settings.
type Policy struct {
	CheckpointEntries int           // seal at least every this many entries
	CheckpointEvery   time.Duration // and at least this often while entries are pending
	RetentionDays     int           // COMPLIANCE retention of segments and checkpoints
}

// PolicyFunc reads a tenant's policy (from its settings).
type PolicyFunc func(ctx context.Context, tenantID string) (Policy, error)

// Config is what a Writer is built from.
type Config struct {
	Items   Items
	Objects Objects
	Signer  signer.Signer
	Policy  PolicyFunc
	Clock   clock.Clock
	Log     *slog.Logger
	// LeaseTTL is how long a sealer's claim on a range lasts before another may finish it
	// (default two minutes, well above the few WORM writes a seal takes).
	LeaseTTL time.Duration
}

// Writer appends, seals, proves and exports. Safe for concurrent use; any number of
// writers may run against one store.
type Writer struct {
	items   Items
	objects Objects
	signer  signer.Signer
	policy  PolicyFunc
	clock   clock.Clock
	log     *slog.Logger
	lease   time.Duration
}

// New builds a writer.
func New(c Config) *Writer {
	w := &Writer{items: c.Items, objects: c.Objects, signer: c.Signer, policy: c.Policy, clock: c.Clock, log: c.Log, lease: c.LeaseTTL}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if w.lease <= 0 {
		w.lease = 2 * time.Minute
	}
	return w
}

// ErrNoSigner means the writer was built without a signing key: it can append, but not
// seal, prove or export.
var ErrNoSigner = errors.New("audit writer has no signing key configured")

func (w *Writer) requireSigner() error {
	if w.signer == nil {
		return ErrNoSigner
	}
	return nil
}

// Errors of the proof service.
var (
	ErrUnknownEvidence = errors.New("no such evidence record")
	ErrNotLogged       = errors.New("evidence record not in the audit log yet")
	ErrNotCheckpointed = errors.New("audit log entry not covered by a signed checkpoint yet")
)

// Item layout of the log (per tenant), beside the evidence records themselves:
//
//	T#<t>#AUDIT       HEAD      next sequence number and last entry hash (GSI1: AUDIT#HEADS / <t>)
//	T#<t>#AUDIT       SEAL      sealed size, frontier, last checkpoint, lease of a seal in progress
//	T#<t>#AUDIT#REF   <ev id>   the entry of an evidence ref: the exactly-once guard
//	T#<t>#AUDIT#LOG   <seq>     the entry's canonical bytes (seq zero-padded to 20 digits)
//	AUDIT#CURSOR      <name>    a change-feed consumer's cursor
const (
	headSK      = "HEAD"
	sealSK      = "SEAL"
	headsIndex  = "AUDIT#HEADS"
	cursorPK    = "AUDIT#CURSOR"
	seqKeyWidth = 20
)

func logPK(tenantID string) string   { return "T#" + tenantID + "#AUDIT" }
func refPK(tenantID string) string   { return "T#" + tenantID + "#AUDIT#REF" }
func entryPK(tenantID string) string { return "T#" + tenantID + "#AUDIT#LOG" }
func seqKey(seq uint64) string       { return fmt.Sprintf("%0*d", seqKeyWidth, seq) }

// objectPrefix is where a tenant's sealed log lives in the WORM store.
func objectPrefix(tenantID string) string { return "tenants/" + tenantID + "/audit/" }

type head struct {
	NextSeq  uint64 `json:"next_seq"`
	LastHash string `json:"last_hash"`
}

type sealState struct {
	Size           uint64   `json:"size"`
	Frontier       []string `json:"frontier"`
	LastHash       string   `json:"last_hash"`
	CheckpointKey  string   `json:"checkpoint_key,omitempty"`
	CheckpointHash string   `json:"checkpoint_hash"`
	CheckpointAt   string   `json:"checkpoint_at,omitempty"`
	Lease          *lease   `json:"lease,omitempty"`
}

// lease claims the sealing of entries Start..End-1 until Until.
type lease struct {
	Start uint64 `json:"start"`
	End   uint64 `json:"end"`
	Until string `json:"until"`
}

// loadJSON reads an item into v; a missing item leaves v alone and gives version 0.
func (w *Writer) loadJSON(ctx context.Context, pk, sk string, v any) (int64, error) {
	it, err := w.items.Get(ctx, pk, sk)
	if errors.Is(err, itemstore.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(it.Data, v); err != nil {
		return 0, fmt.Errorf("decode %s/%s: %w", pk, sk, err)
	}
	return it.Version, nil
}

func (w *Writer) head(ctx context.Context, tenantID string) (head, int64, error) {
	h := head{LastHash: auditlog.ZeroHash.String()}
	v, err := w.loadJSON(ctx, logPK(tenantID), headSK, &h)
	if err != nil {
		return h, 0, fmt.Errorf("audit head of %s: %w", tenantID, err)
	}
	return h, v, nil
}

func (w *Writer) sealed(ctx context.Context, tenantID string) (sealState, int64, error) {
	s := sealState{Frontier: []string{}, LastHash: auditlog.ZeroHash.String(), CheckpointHash: auditlog.ZeroHash.String()}
	v, err := w.loadJSON(ctx, logPK(tenantID), sealSK, &s)
	if err != nil {
		return s, 0, fmt.Errorf("audit seal state of %s: %w", tenantID, err)
	}
	return s, v, nil
}

// versioned is a put guarded by the version last read (0: the item must not exist yet).
func versioned(it itemstore.Item, version int64) itemstore.Write {
	w := itemstore.Write{Kind: itemstore.Put, Item: it, Cond: itemstore.IfAbsent}
	if version > 0 {
		w.Cond, w.ExpectVersion = itemstore.IfVersion, version
	}
	return w
}
