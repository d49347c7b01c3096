// Package auth maps API tokens to a tenant and one role. Tokens are random, shown once, and
// stored only as their SHA-256 hash; the tenant of every request comes from here and nowhere
// else. Every token expires (the tenant's default lifetime, at most its maximum), records
// when it was last used (at most once a minute), and can be listed, rotated and revoked,
// each change with evidence.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// Role is what a token may do; the route table names the roles each route accepts.
type Role string

const (
	TenantAdmin        Role = "tenant_admin"
	ReportOperator     Role = "report_operator"
	Approver           Role = "approver"
	AuditorViewer      Role = "auditor_viewer"
	SecurityLeadership Role = "security_leadership"
)

// Roles lists every role.
var Roles = []Role{TenantAdmin, ReportOperator, Approver, AuditorViewer, SecurityLeadership}

// Valid tells whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is who is calling: always a tenant and a role, never a person.
type Principal struct {
	TenantID string
	Role     Role
	TokenRef string
}

// ErrUnauthenticated covers a missing, malformed, unknown, expired or revoked token alike, so
// a caller learns nothing about which.
var ErrUnauthenticated = problem.New(problem.Unauthenticated, "unauthenticated", "Authorization", "a valid bearer token is required")

// Store is the part of the item store tokens need.
type Store interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Put(ctx context.Context, w itemstore.Write) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// LifetimeSource gives a tenant's default and maximum token lifetime (its settings).
type LifetimeSource func(ctx context.Context, tenantID string) (def, max time.Duration, err error)

// Fixed gives every tenant the same default and maximum lifetime d: for tools and tests
// whose clock moves further than any tenant's maximum.
func Fixed(d time.Duration) LifetimeSource {
	return func(context.Context, string) (time.Duration, time.Duration, error) { return d, d, nil }
}

// Lifetimes when no source is configured (and the settings defaults).
const (
	DefaultLifetime = 90 * 24 * time.Hour
	MaxLifetime     = 365 * 24 * time.Hour
)

// Tokens issues, checks, lists, rotates and revokes API tokens.
type Tokens struct {
	items     Store
	clock     clock.Clock
	lifetimes LifetimeSource
	// recent holds tokens looked up in the last principalCacheFor, keyed by token hash
	// (never the token itself). Every request authenticates, so this saves an item-store
	// read per request; the price is that a revocation made by another process takes up to
	// principalCacheFor to reach this one (a revocation made here is immediate).
	recent sync.Map
	// touched is when this process last wrote a token's last-used time, by token hash.
	touched sync.Map
}

// principalCacheFor bounds how long a revoked token can still work in another process.
const principalCacheFor = 5 * time.Second

// lastUsedEvery throttles last-used writes: one per token per minute, not one per request.
const lastUsedEvery = time.Minute

// keptAfterExpiry is how long an expired token stays listed (as expired) before the store
// removes it.
const keptAfterExpiry = 30 * 24 * time.Hour

type recentToken struct {
	item  itemstore.Item
	rec   tokenRecord
	until time.Time
}

// NewTokens builds the token service; lifetimes may be nil (then DefaultLifetime and
// MaxLifetime apply), as in the authorizer, which only authenticates.
func NewTokens(items Store, clk clock.Clock, lifetimes LifetimeSource) *Tokens {
	if lifetimes == nil {
		lifetimes = func(context.Context, string) (time.Duration, time.Duration, error) {
			return DefaultLifetime, MaxLifetime, nil
		}
	}
	return &Tokens{items: items, clock: clk, lifetimes: lifetimes}
}

const tokenPrefix = "aispm_"

type tokenRecord struct {
	TenantID  string `json:"tenant_id"`
	Role      Role   `json:"role"`
	TokenRef  string `json:"token_ref"`
	CreatedAt string `json:"created_at"`
	// ExpiresAt is empty on tokens issued before tokens expired: they expire MaxLifetime
	// after creation.
	ExpiresAt   string `json:"expires_at,omitempty"`
	LastUsedAt  string `json:"last_used_at,omitempty"`
	RotatedFrom string `json:"rotated_from,omitempty"`
}

func (r tokenRecord) expiry() time.Time {
	if t, err := time.Parse(time.RFC3339, r.ExpiresAt); err == nil {
		return t
	}
	created, _ := time.Parse(time.RFC3339, r.CreatedAt)
	return created.Add(MaxLifetime)
}

// Info is what listing shows of a token: never its secret or hash.
type Info struct {
	TokenRef    string `json:"token_ref"`
	Role        Role   `json:"role"`
	Status      string `json:"status"` // active or expired
	CreatedAt   string `json:"created_at"`
	ExpiresAt   string `json:"expires_at"`
	LastUsedAt  string `json:"last_used_at,omitempty"`
	RotatedFrom string `json:"rotated_from,omitempty"`
}

// Issued is a new token: the secret is shown once and stored nowhere.
type Issued struct {
	Secret string `json:"token"`
	Info
}

func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "TOKEN#" + hex.EncodeToString(sum[:])
}

func listKey(tenantID string) string { return "T#" + tenantID + "#TOKENS" }

// IssueRequest asks for a token. TTL 0 means the tenant's default lifetime.
type IssueRequest struct {
	TenantID  string
	Role      Role
	TTL       time.Duration
	ActorRole string
}

// Issue creates a token for tenantID with role and the tenant's default lifetime, and
// returns it (shown once) and its ref.
func (t *Tokens) Issue(ctx context.Context, tenantID string, role Role, actorRole string) (string, string, error) {
	out, err := t.IssueToken(ctx, IssueRequest{TenantID: tenantID, Role: role, ActorRole: actorRole})
	return out.Secret, out.TokenRef, err
}

// IssueToken creates a token as r asks.
func (t *Tokens) IssueToken(ctx context.Context, r IssueRequest) (Issued, error) {
	if !r.Role.Valid() {
		return Issued{}, problem.InvalidField("role", "unknown role")
	}
	now := t.clock.Now()
	rec, item, secret, err := t.newToken(ctx, r.TenantID, r.Role, r.TTL, now)
	if err != nil {
		return Issued{}, err
	}
	evw, err := tokenEvidence(r.TenantID, evidence.TokenIssued, r.ActorRole, now, rec.TokenRef, "role:"+string(r.Role))
	if err != nil {
		return Issued{}, err
	}
	if err := t.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: item}, evw}); err != nil {
		return Issued{}, fmt.Errorf("issue token: %w", err)
	}
	return Issued{Secret: secret, Info: rec.info(now)}, nil
}

// newToken makes a token's secret, record and item, its lifetime checked against the
// tenant's maximum.
func (t *Tokens) newToken(ctx context.Context, tenantID string, role Role, ttl time.Duration, now time.Time) (tokenRecord, itemstore.Item, string, error) {
	def, max, err := t.lifetimes(ctx, tenantID)
	if err != nil {
		return tokenRecord{}, itemstore.Item{}, "", fmt.Errorf("token lifetimes: %w", err)
	}
	switch {
	case ttl == 0:
		ttl = min(def, max)
	case ttl < 0:
		return tokenRecord{}, itemstore.Item{}, "", problem.InvalidField("ttl_days", "must be at least 1 day")
	case ttl > max:
		return tokenRecord{}, itemstore.Item{}, "", problem.InvalidField("ttl_days",
			fmt.Sprintf("at most %d days (the tenant's maximum token lifetime)", int(max/(24*time.Hour))))
	}
	id := ref.NewID("tok", now)
	secret, err := newSecret(id)
	if err != nil {
		return tokenRecord{}, itemstore.Item{}, "", err
	}
	expires := now.Add(ttl).Truncate(time.Second)
	rec := tokenRecord{TenantID: tenantID, Role: role, TokenRef: ref.Make("token", id),
		CreatedAt: now.Format(time.RFC3339), ExpiresAt: expires.Format(time.RFC3339)}
	data, err := json.Marshal(rec)
	if err != nil {
		return tokenRecord{}, itemstore.Item{}, "", err
	}
	item := itemstore.Item{PK: hashKey(secret), SK: "TOKEN", GSI1PK: listKey(tenantID), GSI1SK: rec.TokenRef,
		ExpiresAt: expires.Add(keptAfterExpiry), Data: data}
	return rec, item, secret, nil
}

func (r tokenRecord) info(now time.Time) Info {
	status := "active"
	if !now.Before(r.expiry()) {
		status = "expired"
	}
	return Info{TokenRef: r.TokenRef, Role: r.Role, Status: status, CreatedAt: r.CreatedAt,
		ExpiresAt: r.expiry().Format(time.RFC3339), LastUsedAt: r.LastUsedAt, RotatedFrom: r.RotatedFrom}
}

func tokenEvidence(tenantID string, action evidence.Action, actorRole string, now time.Time, subjects ...string) (itemstore.Write, error) {
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: action, ActorRole: actorRole, SubjectRefs: subjects}, now)
	if err != nil {
		return itemstore.Write{}, err
	}
	return ev.Write()
}

func newSecret(id string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token randomness: %w", err)
	}
	return tokenPrefix + strings.TrimPrefix(id, "tok_") + "_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Authenticate resolves an Authorization header value ("Bearer <token>"). An expired token
// is refused like an unknown one.
func (t *Tokens) Authenticate(ctx context.Context, header string) (Principal, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return Principal{}, ErrUnauthenticated
	}
	key, now := hashKey(secret), t.clock.Now()
	tok, err := t.lookup(ctx, key, now)
	if err != nil {
		return Principal{}, err
	}
	if !now.Before(tok.rec.expiry()) {
		return Principal{}, ErrUnauthenticated
	}
	t.touch(ctx, tok, now)
	return Principal{TenantID: tok.rec.TenantID, Role: tok.rec.Role, TokenRef: tok.rec.TokenRef}, nil
}

func (t *Tokens) lookup(ctx context.Context, key string, now time.Time) (recentToken, error) {
	if c, ok := t.recent.Load(key); ok {
		if r := c.(recentToken); now.Before(r.until) {
			return r, nil
		}
		t.recent.Delete(key)
	}
	it, err := t.items.Get(ctx, key, "TOKEN")
	if errors.Is(err, itemstore.ErrNotFound) {
		return recentToken{}, ErrUnauthenticated
	}
	if err != nil {
		return recentToken{}, fmt.Errorf("look up token: %w", err)
	}
	var rec tokenRecord
	if err := json.Unmarshal(it.Data, &rec); err != nil || !rec.Role.Valid() || rec.TenantID == "" {
		return recentToken{}, ErrUnauthenticated
	}
	r := recentToken{item: it, rec: rec, until: now.Add(principalCacheFor)}
	t.recent.Store(key, r)
	return r, nil
}

// touch records the token's last use, at most once a minute per token: a process that
// wrote it recently, or sees that another did, skips the write. The write only lands on a
// token that still exists, so it never brings back a revoked one. A failed write is
// dropped: knowing when a token was last used must not cost the request.
func (t *Tokens) touch(ctx context.Context, tok recentToken, now time.Time) {
	key := tok.item.PK
	if last, ok := t.touched.Load(key); ok && now.Sub(last.(time.Time)) < lastUsedEvery {
		return
	}
	if last, err := time.Parse(time.RFC3339, tok.rec.LastUsedAt); err == nil && now.Sub(last) < lastUsedEvery {
		t.touched.Store(key, last)
		return
	}
	t.touched.Store(key, now)
	rec := tok.rec
	rec.LastUsedAt = now.Format(time.RFC3339)
	data, err := json.Marshal(rec)
	if err != nil {
		return
	}
	it := tok.item
	it.Data, it.Version = data, 0
	if _, err := t.items.Put(ctx, itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfExists, Item: it}); err == nil {
		t.recent.Store(key, recentToken{item: it, rec: rec, until: tok.until})
	}
}

// List returns the tenant's tokens, active and recently expired, oldest first.
func (t *Tokens) List(ctx context.Context, tenantID string) ([]Info, error) {
	now := t.clock.Now()
	out := []Info{}
	q := itemstore.Query{Index: itemstore.GSI1, PK: listKey(tenantID), Limit: 1000}
	for {
		page, err := t.items.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		for _, it := range page.Items {
			var rec tokenRecord
			if json.Unmarshal(it.Data, &rec) == nil && rec.TenantID == tenantID {
				out = append(out, rec.info(now))
			}
		}
		if page.Next == "" {
			return out, nil
		}
		q.Cursor = page.Next
	}
}

// ErrTokenNotFound is a token ref the tenant does not hold (another tenant's alike).
var ErrTokenNotFound = problem.New(problem.NotFound, "token_not_found", "token", "no such token")

// find returns the item of a tenant's token by ref.
func (t *Tokens) find(ctx context.Context, tenantID, tokenRef string) (itemstore.Item, tokenRecord, error) {
	if !strings.HasPrefix(tokenRef, "token:tok_") {
		return itemstore.Item{}, tokenRecord{}, ErrTokenNotFound
	}
	page, err := t.items.Query(ctx, itemstore.Query{Index: itemstore.GSI1, PK: listKey(tenantID), SKFrom: tokenRef, SKTo: tokenRef, Limit: 1})
	if err != nil {
		return itemstore.Item{}, tokenRecord{}, fmt.Errorf("find token: %w", err)
	}
	if len(page.Items) == 0 {
		return itemstore.Item{}, tokenRecord{}, ErrTokenNotFound
	}
	var rec tokenRecord
	if err := json.Unmarshal(page.Items[0].Data, &rec); err != nil || rec.TenantID != tenantID {
		return itemstore.Item{}, tokenRecord{}, ErrTokenNotFound
	}
	return page.Items[0], rec, nil
}

// Revoke deletes a token of tenantID by its ref. It stops working here at once and in every
// other process within principalCacheFor.
func (t *Tokens) Revoke(ctx context.Context, tenantID, tokenRef, actorRole string) error {
	it, _, err := t.find(ctx, tenantID, tokenRef)
	if err != nil {
		return err
	}
	evw, err := tokenEvidence(tenantID, evidence.TokenRevoked, actorRole, t.clock.Now(), tokenRef)
	if err != nil {
		return err
	}
	if err := t.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Delete, Cond: itemstore.IfExists, Item: itemstore.Item{PK: it.PK, SK: it.SK}}, evw}); err != nil {
		if errors.Is(err, itemstore.ErrConflict) {
			return ErrTokenNotFound // revoked or rotated meanwhile
		}
		return fmt.Errorf("revoke token: %w", err)
	}
	t.recent.Delete(it.PK)
	return nil
}

// RotateRequest replaces a token with a new one of the same role. TTL 0 means the tenant's
// default lifetime.
type RotateRequest struct {
	TenantID  string
	TokenRef  string
	TTL       time.Duration
	ActorRole string
}

// Rotate issues a new token with the old one's role and revokes the old one, in one
// transaction: exactly one of them works afterwards (the old one in other processes for up
// to principalCacheFor).
func (t *Tokens) Rotate(ctx context.Context, r RotateRequest) (Issued, error) {
	old, oldRec, err := t.find(ctx, r.TenantID, r.TokenRef)
	if err != nil {
		return Issued{}, err
	}
	now := t.clock.Now()
	rec, item, secret, err := t.newToken(ctx, r.TenantID, oldRec.Role, r.TTL, now)
	if err != nil {
		return Issued{}, err
	}
	rec.RotatedFrom = r.TokenRef
	if item.Data, err = json.Marshal(rec); err != nil {
		return Issued{}, err
	}
	evw, err := tokenEvidence(r.TenantID, evidence.TokenRotated, r.ActorRole, now, r.TokenRef, rec.TokenRef, "role:"+string(rec.Role))
	if err != nil {
		return Issued{}, err
	}
	err = t.items.Transact(ctx, []itemstore.Write{
		{Kind: itemstore.Delete, Cond: itemstore.IfExists, Item: itemstore.Item{PK: old.PK, SK: old.SK}},
		{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: item}, evw})
	if errors.Is(err, itemstore.ErrConflict) {
		return Issued{}, ErrTokenNotFound // revoked or rotated meanwhile
	}
	if err != nil {
		return Issued{}, fmt.Errorf("rotate token: %w", err)
	}
	t.recent.Delete(old.PK)
	return Issued{Secret: secret, Info: rec.info(now)}, nil
}
