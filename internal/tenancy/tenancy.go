// Package tenancy owns tenant records. A tenant's id comes only from the authenticated
// context; nothing a caller sends in a body or path can name another tenant.
package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// Editions gate what a tenant may use.
const (
	Community       = "community"
	Enterprise      = "enterprise"
	EnterpriseTrial = "enterprise_trial"
)

// validID: 2-40 lower-case letters, digits or '-', not starting with '-'. (A loop rather
// than a regular expression compiled at start-up: every route function links this package.)
func validID(id string) bool {
	if len(id) < 2 || len(id) > 40 {
		return false
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Tenant is one customer organization.
type Tenant struct {
	ID          string `json:"tenant_id"`
	DisplayName string `json:"display_name"`
	Edition     string `json:"edition"`
	CreatedAt   string `json:"created_at"`
}

// Store is the part of the item store tenancy needs.
type Store interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
}

// Registry creates and reads tenants.
type Registry struct {
	items Store
	clock clock.Clock
	cache sync.Map // tenant id -> cached
}

// cacheFor bounds how long a process serves a tenant record from memory. Every request
// reads its tenant, and tenant records change rarely, so this saves an item-store read per
// request while any change is seen within the bound.
const cacheFor = 30 * time.Second

type cached struct {
	tenant Tenant
	until  time.Time
}

func NewRegistry(items Store, clk clock.Clock) *Registry { return &Registry{items: items, clock: clk} }

// ErrExists is returned when creating a tenant id that is taken.
var ErrExists = errors.New("tenant already exists")

func key(id string) (string, string) { return "T#" + id, "PROFILE" }

// Create registers a tenant, with evidence.
func (r *Registry) Create(ctx context.Context, id, displayName, edition string) (Tenant, error) {
	if !validID(id) {
		return Tenant{}, problem.InvalidField("tenant_id", "must be 2-40 lower-case letters, digits or '-'")
	}
	if edition != Community && edition != Enterprise && edition != EnterpriseTrial {
		return Tenant{}, problem.InvalidField("edition", "must be community, enterprise or enterprise_trial")
	}
	now := r.clock.Now()
	t := Tenant{ID: id, DisplayName: displayName, Edition: edition, CreatedAt: now.Format(time.RFC3339)}
	data, err := json.Marshal(t)
	if err != nil {
		return Tenant{}, err
	}
	ev, err := evidence.New(evidence.Event{
		TenantID: id, Action: evidence.TenantCreated, ActorRole: "system",
		SubjectRefs: []string{"tenant:" + id}, Details: map[string]any{"edition": edition},
	}, now)
	if err != nil {
		return Tenant{}, err
	}
	evw, err := ev.Write()
	if err != nil {
		return Tenant{}, err
	}
	pk, sk := key(id)
	err = r.items.Transact(ctx, []itemstore.Write{
		{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: itemstore.Item{PK: pk, SK: sk, Data: data}}, evw,
	})
	if errors.Is(err, itemstore.ErrConflict) {
		return Tenant{}, ErrExists
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("create tenant %s: %w", id, err)
	}
	return t, nil
}

// Get reads a tenant, from the cache when fresh.
func (r *Registry) Get(ctx context.Context, id string) (Tenant, error) {
	now := r.clock.Now()
	if c, ok := r.cache.Load(id); ok && now.Before(c.(cached).until) {
		return c.(cached).tenant, nil
	}
	t, err := r.read(ctx, id)
	if err != nil {
		return Tenant{}, err
	}
	r.cache.Store(id, cached{tenant: t, until: now.Add(cacheFor)})
	return t, nil
}

func (r *Registry) read(ctx context.Context, id string) (Tenant, error) {
	pk, sk := key(id)
	it, err := r.items.Get(ctx, pk, sk)
	if err != nil {
		return Tenant{}, fmt.Errorf("read tenant %s: %w", id, err)
	}
	var t Tenant
	if err := json.Unmarshal(it.Data, &t); err != nil {
		return Tenant{}, fmt.Errorf("decode tenant %s: %w", id, err)
	}
	return t, nil
}
