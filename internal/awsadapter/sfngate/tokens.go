package sfngate

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
)

// ErrNoToken means no task token is recorded for the gate yet.
var ErrNoToken = errors.New("no task token recorded for approval gate")

// Claim is the one outcome recorded for a gate: a decision (with its output) or its
// expiry. It is what makes "exactly one decision wins" hold whatever Step Functions does
// with a second SendTaskSuccess on the same token.
type Claim struct {
	Status approvalgate.Status
	Output []byte
	At     time.Time
}

// TokenStore keeps, per gate ref, the activity task token and the claimed outcome, shared
// by every process that opens or decides gates. Activity tasks are handed out in FIFO
// order to any poller, so whichever process receives a token records it here for the gate
// it belongs to. In AWS this is a DynamoDB item with conditional writes.
type TokenStore interface {
	// PutToken records ref's task token; a repeat keeps the first.
	PutToken(ctx context.Context, ref, token string) error
	// Token returns ref's task token, or ErrNoToken.
	Token(ctx context.Context, ref string) (string, error)
	// Claim records c for ref unless a claim exists (compare-and-set). It returns the
	// claim that holds afterwards and whether it is c.
	Claim(ctx context.Context, ref string, c Claim) (winner Claim, won bool, err error)
	// Claimed returns ref's claim, if any.
	Claimed(ctx context.Context, ref string) (Claim, bool, error)
}

// MemTokens is an in-memory TokenStore for tests and single-process use.
type MemTokens struct {
	mu     sync.Mutex
	tokens map[string]string
	claims map[string]Claim
}

var _ TokenStore = (*MemTokens)(nil)

// NewMemTokens returns an empty store.
func NewMemTokens() *MemTokens {
	return &MemTokens{tokens: map[string]string{}, claims: map[string]Claim{}}
}

func (m *MemTokens) PutToken(_ context.Context, ref, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tokens[ref]; !ok {
		m.tokens[ref] = token
	}
	return nil
}

func (m *MemTokens) Token(_ context.Context, ref string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tok, ok := m.tokens[ref]
	if !ok {
		return "", ErrNoToken
	}
	return tok, nil
}

func (m *MemTokens) Claim(_ context.Context, ref string, c Claim) (Claim, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.claims[ref]; ok {
		return cloneClaim(held), false, nil
	}
	c = cloneClaim(c)
	m.claims[ref] = c
	return cloneClaim(c), true, nil
}

func (m *MemTokens) Claimed(_ context.Context, ref string) (Claim, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.claims[ref]
	return cloneClaim(c), ok, nil
}

func cloneClaim(c Claim) Claim {
	c.Output = slices.Clone(c.Output)
	return c
}
