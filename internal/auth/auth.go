// Package auth maps API tokens to a tenant and one role. Tokens are random, shown once, and
// stored only as their SHA-256 hash; the tenant of every request comes from here and nowhere
// else.
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

// ErrUnauthenticated covers a missing, malformed, unknown or revoked token alike, so a caller
// learns nothing about which.
var ErrUnauthenticated = problem.New(problem.Unauthenticated, "unauthenticated", "Authorization", "a valid bearer token is required")

// Store is the part of the item store tokens need.
type Store interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Tokens issues, checks and revokes API tokens.
type Tokens struct {
	items Store
	clock clock.Clock
	// recent holds principals looked up in the last principalCacheFor, keyed by token hash
	// (never the token itself). Every request authenticates, so this saves an item-store
	// read per request; the price is that a revocation made by another process takes up to
	// principalCacheFor to reach this one (a revocation made here is immediate).
	recent sync.Map
}

// principalCacheFor bounds how long a revoked token can still work in another process.
const principalCacheFor = 5 * time.Second

type recentPrincipal struct {
	p     Principal
	until time.Time
}

func NewTokens(items Store, clk clock.Clock) *Tokens { return &Tokens{items: items, clock: clk} }

const tokenPrefix = "aispm_"

type tokenRecord struct {
	TenantID  string `json:"tenant_id"`
	Role      Role   `json:"role"`
	TokenRef  string `json:"token_ref"`
	CreatedAt string `json:"created_at"`
}

func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "TOKEN#" + hex.EncodeToString(sum[:])
}

func listKey(tenantID string) string { return "T#" + tenantID + "#TOKENS" }

// Issue creates a token for tenantID with role and returns it (shown once) and its ref.
func (t *Tokens) Issue(ctx context.Context, tenantID string, role Role, actorRole string) (string, string, error) {
	if !role.Valid() {
		return "", "", problem.InvalidField("role", "unknown role")
	}
	now := t.clock.Now()
	id := ref.NewID("tok", now)
	secret, err := newSecret(id)
	if err != nil {
		return "", "", err
	}
	rec := tokenRecord{TenantID: tenantID, Role: role, TokenRef: ref.Make("token", id), CreatedAt: now.Format(time.RFC3339)}
	data, err := json.Marshal(rec)
	if err != nil {
		return "", "", err
	}
	ev, err := evidence.New(evidence.Event{
		TenantID: tenantID, Action: evidence.TokenIssued, ActorRole: actorRole,
		SubjectRefs: []string{rec.TokenRef, "role:" + string(role)},
	}, now)
	if err != nil {
		return "", "", err
	}
	evw, err := ev.Write()
	if err != nil {
		return "", "", err
	}
	item := itemstore.Item{PK: hashKey(secret), SK: "TOKEN", GSI1PK: listKey(tenantID), GSI1SK: rec.TokenRef, Data: data}
	if err := t.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: item}, evw}); err != nil {
		return "", "", fmt.Errorf("issue token: %w", err)
	}
	return secret, rec.TokenRef, nil
}

func newSecret(id string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token randomness: %w", err)
	}
	return tokenPrefix + strings.TrimPrefix(id, "tok_") + "_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Authenticate resolves an Authorization header value ("Bearer <token>").
func (t *Tokens) Authenticate(ctx context.Context, header string) (Principal, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return Principal{}, ErrUnauthenticated
	}
	key, now := hashKey(secret), t.clock.Now()
	if c, ok := t.recent.Load(key); ok {
		if r := c.(recentPrincipal); now.Before(r.until) {
			return r.p, nil
		}
		t.recent.Delete(key)
	}
	it, err := t.items.Get(ctx, key, "TOKEN")
	if errors.Is(err, itemstore.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up token: %w", err)
	}
	var rec tokenRecord
	if err := json.Unmarshal(it.Data, &rec); err != nil || !rec.Role.Valid() || rec.TenantID == "" {
		return Principal{}, ErrUnauthenticated
	}
	p := Principal{TenantID: rec.TenantID, Role: rec.Role, TokenRef: rec.TokenRef}
	t.recent.Store(key, recentPrincipal{p: p, until: now.Add(principalCacheFor)})
	return p, nil
}

// Revoke deletes a token of tenantID by its ref.
func (t *Tokens) Revoke(ctx context.Context, tenantID, tokenRef, actorRole string) error {
	page, err := t.items.Query(ctx, itemstore.Query{Index: itemstore.GSI1, PK: listKey(tenantID), SKFrom: tokenRef, SKTo: tokenRef, Limit: 1})
	if err != nil {
		return fmt.Errorf("find token: %w", err)
	}
	if len(page.Items) == 0 {
		return problem.New(problem.NotFound, "not_found", "token_ref", "no such token")
	}
	ev, err := evidence.New(evidence.Event{
		TenantID: tenantID, Action: evidence.TokenRevoked, ActorRole: actorRole, SubjectRefs: []string{tokenRef},
	}, t.clock.Now())
	if err != nil {
		return err
	}
	evw, err := ev.Write()
	if err != nil {
		return err
	}
	it := page.Items[0]
	if err := t.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Delete, Cond: itemstore.IfExists, Item: itemstore.Item{PK: it.PK, SK: it.SK}}, evw}); err != nil {
		return err
	}
	t.recent.Delete(it.PK)
	return nil
}
