// Package pagecursor seals the opaque cursors of paginated searches. A cursor carries where
// the last page stopped; its MAC binds it to the tenant and the filters it was issued for,
// so a caller can hand it back but cannot forge one, alter it, or replay it in another
// tenant or with other filters. The MAC key is random, made once per deployment and kept in
// the item store (which tenants never read), so every process and Lambda container shares
// it without any secret in configuration.
package pagecursor

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// ErrInvalid is a cursor that was not issued for this scope, or was altered.
var ErrInvalid = errors.New("cursor was not issued for this scope")

// Store is the part of the item store the key needs.
type Store interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
}

// keyPK and keySK hold the deployment's cursor key. The partition names no tenant, so no
// tenant-scoped query reaches it.
const (
	keyPK = "SYSTEM#PAGECURSOR"
	keySK = "KEY"
	// maxCursor bounds what Open decodes; real cursors are a few hundred bytes.
	maxCursor = 2048
)

// Sealer seals and opens cursors. It loads (or creates) the key on first use and keeps it.
type Sealer struct {
	items Store
	mu    sync.Mutex
	key   []byte
}

func New(items Store) *Sealer { return &Sealer{items: items} }

type keyRecord struct {
	Key []byte `json:"key"`
}

// Seal returns a cursor for position, bound to scope (for example tenant and filter digest).
func (s *Sealer) Seal(ctx context.Context, scope string, position []byte) (string, error) {
	key, err := s.loadKey(ctx)
	if err != nil {
		return "", err
	}
	body := base64.RawURLEncoding.EncodeToString(position)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(key, scope, body)), nil
}

// Open returns the position sealed in cursor, or ErrInvalid when cursor was not sealed for
// scope by this deployment.
func (s *Sealer) Open(ctx context.Context, scope, cursor string) ([]byte, error) {
	body, tag, ok := strings.Cut(cursor, ".")
	if !ok || len(cursor) > maxCursor {
		return nil, ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(tag)
	if err != nil {
		return nil, ErrInvalid
	}
	key, err := s.loadKey(ctx)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(got, mac(key, scope, body)) {
		return nil, ErrInvalid
	}
	pos, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrInvalid
	}
	return pos, nil
}

// mac covers the scope and the encoded position; the scope is length-prefixed so no two
// (scope, body) pairs share an input.
func mac(key []byte, scope, body string) []byte {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "aispm.page-cursor.v1\n%d\n%s\n%s", len(scope), scope, body)
	return h.Sum(nil)
}

func (s *Sealer) loadKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	key, err := s.readKey(ctx)
	if errors.Is(err, itemstore.ErrNotFound) {
		key, err = s.createKey(ctx)
	}
	if err != nil {
		return nil, err
	}
	s.key = key
	return key, nil
}

func (s *Sealer) readKey(ctx context.Context) ([]byte, error) {
	it, err := s.items.Get(ctx, keyPK, keySK)
	if err != nil {
		return nil, err
	}
	var rec keyRecord
	if err := json.Unmarshal(it.Data, &rec); err != nil || len(rec.Key) < 32 {
		return nil, fmt.Errorf("cursor key record is damaged")
	}
	return rec.Key, nil
}

// createKey writes a new random key unless another process wrote one first, in which case
// that one is read and used.
func (s *Sealer) createKey(ctx context.Context) ([]byte, error) {
	rec := keyRecord{Key: make([]byte, 32)}
	if _, err := rand.Read(rec.Key); err != nil {
		return nil, fmt.Errorf("cursor key randomness: %w", err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	err = s.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: keyPK, SK: keySK, Data: data}}})
	if errors.Is(err, itemstore.ErrConflict) {
		return s.readKey(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("store cursor key: %w", err)
	}
	return rec.Key, nil
}
