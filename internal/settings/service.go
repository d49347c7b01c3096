package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/egress"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Store is the part of the item store settings need.
type Store interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
}

// Targets checks, when settings are saved, that a host the tenant names is one outbound
// deliveries may reach (egress.Policy): the deployment's rule, not the tenant's.
type Targets interface {
	CheckHost(ctx context.Context, host string) error
}

// Service reads and writes tenant settings.
type Service struct {
	items   Store
	clock   clock.Clock
	targets Targets
}

// NewService returns the settings service; targets checks the hosts a save names.
func NewService(items Store, clk clock.Clock, targets Targets) *Service {
	if targets == nil {
		targets = egress.Policy{} // the strict rule: public addresses only
	}
	return &Service{items: items, clock: clk, targets: targets}
}

// Current is the stored settings with their version.
type Current struct {
	Settings   Settings `json:"settings"`
	Version    int64    `json:"version"`
	Configured bool     `json:"configured"`
	UpdatedAt  string   `json:"updated_at,omitempty"`
	Digest     string   `json:"digest"`
}

type stored struct {
	Settings  Settings `json:"settings"`
	UpdatedAt string   `json:"updated_at"`
}

func key(tenantID string) (string, string) { return "T#" + tenantID, "SETTINGS" }

// Statuses of a test delivery (the public delivery-audit-event's).
const (
	TestPassed = "test_passed"
	TestFailed = "failed"
)

// TestDeliveryOutcome is the last test delivery through the tenant's provider: shown with
// the settings, written by the delivery service. No address, no provider answer.
type TestDeliveryOutcome struct {
	TestRef        string `json:"test_ref"`
	Mode           string `json:"mode"`
	Status         string `json:"status"` // TestPassed or TestFailed
	FailureClass   string `json:"failure_class,omitempty"`
	StatusClass    string `json:"provider_status_class,omitempty"`
	RecipientCount int    `json:"recipient_count"`
	ActorRole      string `json:"actor_role"`
	TestedAt       string `json:"tested_at"`
	EvidenceRef    string `json:"evidence_ref"`
}

// TestDeliveryKey is where the last test delivery's outcome is kept.
func TestDeliveryKey(tenantID string) (string, string) {
	return "T#" + tenantID, "SETTINGS#TEST_DELIVERY"
}

// LastTestDelivery returns the tenant's last test delivery, nil before the first.
func (s *Service) LastTestDelivery(ctx context.Context, tenantID string) (*TestDeliveryOutcome, error) {
	pk, sk := TestDeliveryKey(tenantID)
	it, err := s.items.Get(ctx, pk, sk)
	if errors.Is(err, itemstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read last test delivery: %w", err)
	}
	var out TestDeliveryOutcome
	if err := json.Unmarshal(it.Data, &out); err != nil {
		return nil, fmt.Errorf("decode last test delivery: %w", err)
	}
	return &out, nil
}

// Get returns the tenant's settings, or the defaults (Configured false) when none are saved.
func (s *Service) Get(ctx context.Context, tenantID, displayName string) (Current, error) {
	pk, sk := key(tenantID)
	it, err := s.items.Get(ctx, pk, sk)
	if errors.Is(err, itemstore.ErrNotFound) {
		return current(Defaults(displayName), 0, false, "")
	}
	if err != nil {
		return Current{}, fmt.Errorf("read settings: %w", err)
	}
	var st stored
	if err := json.Unmarshal(it.Data, &st); err != nil {
		return Current{}, fmt.Errorf("decode settings: %w", err)
	}
	return current(st.Settings, it.Version, true, st.UpdatedAt)
}

// Of returns a tenant's settings in force (the defaults until the setup wizard saved any):
// what the other services read.
func (s *Service) Of(ctx context.Context, tenantID string) (Settings, error) {
	cur, err := s.Get(ctx, tenantID, "")
	return cur.Settings, err
}

// OperationalRetentionDays is how long the tenant keeps operational records.
func (s *Service) OperationalRetentionDays(ctx context.Context, tenantID string) (int, error) {
	st, err := s.Of(ctx, tenantID)
	return st.RetentionDays.OperationalRecord, err
}

// TokenLifetimes is the tenant's default and maximum API token lifetime. Settings saved
// before tokens expired have neither: they get the defaults.
func (s *Service) TokenLifetimes(ctx context.Context, tenantID string) (def, max time.Duration, err error) {
	st, err := s.Of(ctx, tenantID)
	if err != nil {
		return 0, 0, err
	}
	d, m := st.AccessTokens.DefaultTTLDays, st.AccessTokens.MaxTTLDays
	if m <= 0 {
		m = DefaultTokenMaxDays
	}
	if d <= 0 {
		d = min(DefaultTokenTTLDays, m)
	}
	const day = 24 * time.Hour
	return time.Duration(d) * day, time.Duration(m) * day, nil
}

func current(st Settings, version int64, configured bool, updated string) (Current, error) {
	d, err := canonjson.DigestOf(st)
	if err != nil {
		return Current{}, err
	}
	return Current{Settings: st, Version: version, Configured: configured, UpdatedAt: updated, Digest: d}, nil
}

// PutRequest is one save of the wizard.
type PutRequest struct {
	TenantID    string
	DisplayName string // the tenant's name, the default for organization_profile.display_name
	ActorRole   string
	Body        []byte
	// IfMatch, when > 0, is the version the caller last read; a newer stored version wins
	// with PreconditionFailed instead of being overwritten.
	IfMatch int64
}

// Put validates and stores settings, with evidence, in one transaction.
func (s *Service) Put(ctx context.Context, r PutRequest) (Current, string, error) {
	next, err := Parse(r.Body, r.DisplayName)
	if err != nil {
		return Current{}, "", err
	}
	if err := s.checkTargets(ctx, next.DeliveryProvider); err != nil {
		return Current{}, "", err
	}
	prev, err := s.Get(ctx, r.TenantID, r.DisplayName)
	if err != nil {
		return Current{}, "", err
	}
	if r.IfMatch > 0 && r.IfMatch != prev.Version {
		return Current{}, "", problem.New(problem.PreconditionFailed, "version_mismatch", "If-Match",
			fmt.Sprintf("settings are at version %d", prev.Version))
	}
	now := s.clock.Now()
	nextCur, err := current(next, prev.Version+1, true, now.Format(time.RFC3339))
	if err != nil {
		return Current{}, "", err
	}
	ev, err := evidence.New(evidence.Event{
		TenantID: r.TenantID, Action: evidence.SettingsUpdated, ActorRole: r.ActorRole,
		SubjectRefs: []string{"settings:" + r.TenantID},
		Details: map[string]any{
			"version": nextCur.Version, "settings_digest": nextCur.Digest,
			"previous_digest": prev.Digest, "changed_sections": changedSections(prev.Settings, next),
		},
	}, now)
	if err != nil {
		return Current{}, "", err
	}
	if err := s.write(ctx, r.TenantID, prev, stored{Settings: next, UpdatedAt: nextCur.UpdatedAt}, ev); err != nil {
		return Current{}, "", err
	}
	return nextCur, ev.Ref, nil
}

// checkTargets refuses a host that resolves to a loopback, private or link-local address
// (unless the deployment allows private targets), before anything is stored; every
// connection is checked again when it is made.
func (s *Service) checkTargets(ctx context.Context, dp DeliveryProvider) error {
	hosts := []struct{ path, host string }{{"delivery_provider.smtp_host", dp.SMTPHost}}
	for _, u := range []struct{ path, raw string }{{"delivery_provider.webhook_url", dp.WebhookURL}, {"delivery_provider.grc_webhook_url", dp.GRCWebhookURL}} {
		if parsed, err := url.Parse(u.raw); err == nil && u.raw != "" {
			hosts = append(hosts, struct{ path, host string }{u.path, parsed.Hostname()})
		}
	}
	for _, h := range hosts {
		if h.host == "" {
			continue
		}
		if err := s.targets.CheckHost(ctx, h.host); err != nil {
			return problem.InvalidField(h.path, "must reach a public address: "+err.Error())
		}
	}
	return nil
}

func (s *Service) write(ctx context.Context, tenantID string, prev Current, st stored, ev evidence.Record) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	pk, sk := key(tenantID)
	err = ev.SaveWith(ctx, s.items, itemstore.Item{PK: pk, SK: sk, Data: data}, prev.Version)
	if errors.Is(err, itemstore.ErrConflict) {
		return problem.New(problem.Conflict, "concurrent_update", "", "settings changed while saving; read them again and retry")
	}
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// Parse validates a settings document: secret scan first (so nothing secret-looking reaches
// a later error message), then the schema, then the field rules.
func Parse(body []byte, displayName string) (Settings, error) {
	doc, err := schemas.DecodeBody(body)
	if err != nil {
		return Settings{}, err
	}
	if err := refuseSecrets(doc); err != nil {
		return Settings{}, err
	}
	if err := schemas.Validate(schemas.Settings, "", doc); err != nil {
		return Settings{}, err
	}
	st := Defaults(displayName)
	if err := schemas.DecodeInto(body, &st); err != nil {
		return Settings{}, err
	}
	st.SchemaVersion = SchemaVersion
	normalize(&st)
	for _, f := range Fields {
		if err := f.check(st); err != nil {
			return Settings{}, problem.InvalidField(f.Path, err.Error())
		}
	}
	return st, nil
}

func normalize(st *Settings) {
	if st.RecipientGovernance.AllowedDomains == nil {
		st.RecipientGovernance.AllowedDomains = []string{}
	}
	if st.RecipientGovernance.BlockedDomains == nil {
		st.RecipientGovernance.BlockedDomains = []string{}
	}
}

func changedSections(a, b Settings) []string {
	pairs := []struct {
		name string
		x, y any
	}{
		{"organization_profile", a.OrganizationProfile, b.OrganizationProfile},
		{"delivery_provider", a.DeliveryProvider, b.DeliveryProvider},
		{"recipient_governance", a.RecipientGovernance, b.RecipientGovernance},
		{"schedule_and_audit", a.ScheduleAndAudit, b.ScheduleAndAudit},
		{"branding", a.Branding, b.Branding},
		{"retention_days", a.RetentionDays, b.RetentionDays},
	}
	out := []string{}
	for _, p := range pairs {
		x, _ := canonjson.DigestOf(p.x)
		y, _ := canonjson.DigestOf(p.y)
		if x != y {
			out = append(out, p.name)
		}
	}
	return out
}

// refuseSecrets walks every string in the document. The sender address is the one place an
// email address belongs; anything that looks like key material, a credential assignment or
// a known token shape is refused wherever it appears, and the value is never echoed.
func refuseSecrets(doc any) error {
	var found *problem.Error
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if found != nil {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				walk(joinPath(path, k), child)
			}
		case []any:
			for i, child := range t {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		case string:
			if kind := secretKind(t); kind != "" {
				found = problem.New(problem.Invalid, "secret_value_refused", path,
					"a secret value ("+kind+") is not accepted here; store it in a secret manager and give its reference")
			}
		}
	}
	walk("", doc)
	if found != nil {
		return found
	}
	return nil
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func secretKind(s string) string {
	if secretRefPattern.MatchString(s) {
		return ""
	}
	switch evidence.ScanString(s) {
	case "private_key":
		return "private key"
	case "secret_value":
		return "credential"
	}
	if looksLikeKeyMaterial(s) {
		return "key material"
	}
	return ""
}

// looksLikeKeyMaterial catches pasted tokens and keys: a long unbroken run of base64/hex
// characters mixing letter cases or digits, which no legitimate setting value is. Secret
// references are excluded because ARNs contain ':' and ref names are upper-case words.
func looksLikeKeyMaterial(s string) bool {
	if len(s) < 32 || strings.ContainsAny(s, " :") || secretRefPattern.MatchString(s) {
		return false
	}
	var upper, lower, digit bool
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune("+/=_-.", r):
		default:
			return false
		}
	}
	return (upper && lower) || (digit && (upper || lower))
}
