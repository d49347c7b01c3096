package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// Items is the part of the item store deliveries need.
type Items interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Objects reads what is sent, writes GRC exports and presigns links for large attachments.
type Objects interface {
	Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error)
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, objectstore.Info, error)
	PresignGet(ctx context.Context, key, versionID string, ttl time.Duration) (string, error)
}

// ArtifactReader reads artifact records (artifacts.Service).
type ArtifactReader interface {
	Get(ctx context.Context, tenantID, artifact string) (artifacts.Record, error)
}

// PackageReader reads signed packages (manifest.Service).
type PackageReader interface {
	Get(ctx context.Context, tenantID, pkg string) (manifest.Record, error)
}

// Ports are what the service runs on. Mailer and Gate may be nil where not configured:
// email sends then dead-letter as provider_auth and gated sends are refused with 409.
type Ports struct {
	Items     Items
	Objects   Objects
	Artifacts ArtifactReader
	Packages  PackageReader
	Settings  artifacts.SettingsFunc
	Mailer    mailer.Sender
	Gate      approvalgate.Gate
	// Scheduler fires the retry sweeps when retries are due and the watchdog sweeps after a
	// claimed attempt; nil leaves both to RetryDue.
	Scheduler Scheduler
	Clock     clock.Clock
}

// Scheduler creates the one-shot sweeps.
type Scheduler interface {
	Create(ctx context.Context, s scheduler.Schedule) error
}

// Service is recipient policy, send, approvals and the delivery log.
type Service struct {
	Ports
	// jitter returns a random share of a backoff delay; tests replace it.
	jitter func(max time.Duration) time.Duration
}

// NewService builds the service.
func NewService(p Ports) *Service {
	return &Service{Ports: p, jitter: func(max time.Duration) time.Duration {
		if max <= 0 {
			return 0
		}
		return rand.N(max)
	}}
}

// SetJitter replaces the backoff jitter (tests make it deterministic).
func (s *Service) SetJitter(f func(max time.Duration) time.Duration) { s.jitter = f }

// StoredPolicy is a tenant's policy with its version.
type StoredPolicy struct {
	Policy     Policy `json:"policy"`
	Version    int64  `json:"version"`
	Configured bool   `json:"configured"`
	Digest     string `json:"digest"`
	UpdatedAt  string `json:"updated_at,omitempty"`
	// EvidenceRef is the evidence of the change that made this version.
	EvidenceRef string `json:"evidence_ref,omitempty"`
}

type storedPolicy struct {
	Policy      Policy `json:"policy"`
	UpdatedAt   string `json:"updated_at"`
	EvidenceRef string `json:"evidence_ref"`
}

// GetPolicy returns the tenant's policy, or the default (Configured false).
// EvaluatePolicy evaluates the tenant's policy in force (with its settings' blocked domains) for
// a send of channel to recipients, without sending: schedules check their recipients
// when created and changed.
func (s *Service) EvaluatePolicy(ctx context.Context, tenantID, channel string, recipients []string) (Decision, error) {
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return Decision{}, err
	}
	pol, err := s.GetPolicy(ctx, tenantID)
	if err != nil {
		return Decision{}, err
	}
	return Evaluate(pol.Policy.WithBlockedDomains(st.RecipientGovernance.BlockedDomains), channel, recipients), nil
}

func (s *Service) GetPolicy(ctx context.Context, tenantID string) (StoredPolicy, error) {
	pk, sk := policyKey(tenantID)
	it, err := s.Items.Get(ctx, pk, sk)
	if errors.Is(err, itemstore.ErrNotFound) {
		return withDigest(StoredPolicy{Policy: DefaultPolicy()})
	}
	if err != nil {
		return StoredPolicy{}, fmt.Errorf("read recipient policy: %w", err)
	}
	var st storedPolicy
	if err := json.Unmarshal(it.Data, &st); err != nil {
		return StoredPolicy{}, fmt.Errorf("decode recipient policy: %w", err)
	}
	return withDigest(StoredPolicy{Policy: st.Policy, Version: it.Version, Configured: true, UpdatedAt: st.UpdatedAt, EvidenceRef: st.EvidenceRef})
}

func withDigest(p StoredPolicy) (StoredPolicy, error) {
	d, err := digestOf(p.Policy)
	p.Digest = d
	return p, err
}

// PutPolicy validates and replaces the tenant's policy, with evidence, in one transaction.
// ifMatch > 0 is the version the caller read; a newer one wins with 412.
func (s *Service) PutPolicy(ctx context.Context, tenantID, role string, body []byte, ifMatch int64) (StoredPolicy, string, error) {
	next, err := ParsePolicy(body)
	if err != nil {
		return StoredPolicy{}, "", err
	}
	prev, err := s.GetPolicy(ctx, tenantID)
	if err != nil {
		return StoredPolicy{}, "", err
	}
	if ifMatch > 0 && ifMatch != prev.Version {
		return StoredPolicy{}, "", problem.New(problem.PreconditionFailed, "version_mismatch", "If-Match",
			fmt.Sprintf("the recipient policy is at version %d", prev.Version))
	}
	now := s.Clock.Now()
	cur, err := withDigest(StoredPolicy{Policy: next, Version: prev.Version + 1, Configured: true, UpdatedAt: stamp(now)})
	if err != nil {
		return StoredPolicy{}, "", err
	}
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: evidence.RecipientPolicyUpdated, ActorRole: role,
		SubjectRefs: []string{"recipient_policy:" + tenantID},
		Details: map[string]any{"version": cur.Version, "policy_digest": cur.Digest, "previous_digest": prev.Digest,
			"domain_rule_count": len(next.DomainRules), "recipient_group_count": len(next.RecipientGroups),
			"default_action": next.DefaultAction, "external_delivery_default": next.ExternalDeliveryDefault}}, now)
	if err != nil {
		return StoredPolicy{}, "", err
	}
	if err := s.writePolicy(ctx, tenantID, prev, storedPolicy{Policy: next, UpdatedAt: cur.UpdatedAt, EvidenceRef: ev.Ref}, ev); err != nil {
		return StoredPolicy{}, "", err
	}
	cur.EvidenceRef = ev.Ref
	return cur, ev.Ref, nil
}

func (s *Service) writePolicy(ctx context.Context, tenantID string, prev StoredPolicy, st storedPolicy, ev evidence.Record) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	pk, sk := policyKey(tenantID)
	err = ev.SaveWith(ctx, s.Items, itemstore.Item{PK: pk, SK: sk, Data: data}, prev.Version)
	if errors.Is(err, itemstore.ErrConflict) {
		return problem.New(problem.Conflict, "concurrent_update", "", "the recipient policy changed while saving; read it again and retry")
	}
	if err != nil {
		return fmt.Errorf("save recipient policy: %w", err)
	}
	return nil
}
