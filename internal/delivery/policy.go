// Package delivery sends governed report artifacts and packages to recipients: recipient
// policy and its evaluation, the approval-before-send gate, the portal, email and GRC
// channels, retries with backoff, idempotent sends and the delivery log.
//
// Recipient addresses live only in the delivery item (the item store), never in evidence,
// logs or exports: evidence carries counts, domains' digests, roles and refs.
package delivery

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Channels the product delivers by.
const (
	Portal = "portal"
	Email  = "email"
	GRC    = "grc"
)

// Domain classifications.
const (
	Internal        = "internal"
	ExternalAuditor = "external_auditor"
	ExternalPartner = "external_partner"
	BlockedDomain   = "blocked"
)

// Policy is a tenant's recipient policy.
type Policy struct {
	DomainRules             []DomainRule     `json:"domain_rules"`
	RecipientGroups         []RecipientGroup `json:"recipient_groups"`
	DefaultAction           string           `json:"default_action"`
	ExternalDeliveryDefault string           `json:"external_delivery_default"`
	ChannelEligibility      map[string]bool  `json:"channel_eligibility"`
	MinimumTransport        string           `json:"minimum_transport"`
}

// DomainRule classifies one recipient domain.
type DomainRule struct {
	Domain          string   `json:"domain"`
	Classification  string   `json:"classification"`
	AllowedChannels []string `json:"allowed_channels"`
}

// RecipientGroup is a group known by reference and size only.
type RecipientGroup struct {
	GroupRef    string `json:"group_ref"`
	MemberCount int    `json:"member_count"`
}

// DefaultPolicy is what a tenant has before saving one: nothing is trusted, so every
// address-bound send needs approval and portal delivery (inside the tenant) is allowed.
func DefaultPolicy() Policy {
	return Policy{
		DomainRules: []DomainRule{}, RecipientGroups: []RecipientGroup{},
		DefaultAction: "require_approval", ExternalDeliveryDefault: "require_approval",
		ChannelEligibility: map[string]bool{Portal: true, Email: true, GRC: true}, MinimumTransport: "tls_1_2",
	}
}

// ParsePolicy validates a PUT body: schema, then rules (domains well formed and unique).
func ParsePolicy(body []byte) (Policy, error) {
	var p Policy
	if err := schemas.DecodeValid("recipient-policy.schema.json", body, &p); err != nil {
		return Policy{}, err
	}
	seen := map[string]bool{}
	for i, r := range p.DomainRules {
		d := strings.ToLower(r.Domain)
		field := fmt.Sprintf("domain_rules[%d].domain", i)
		if !isDomain(d) {
			return Policy{}, problem.InvalidField(field, "must be a domain name such as example.com")
		}
		if seen[d] {
			return Policy{}, problem.InvalidField(field, "each domain may have one rule")
		}
		seen[d] = true
		p.DomainRules[i].Domain = d
		if r.Classification == BlockedDomain && len(r.AllowedChannels) > 0 {
			return Policy{}, problem.InvalidField(fmt.Sprintf("domain_rules[%d].allowed_channels", i), "a blocked domain allows no channel")
		}
	}
	normalize(&p)
	return p, nil
}

func normalize(p *Policy) {
	d := DefaultPolicy()
	if p.RecipientGroups == nil {
		p.RecipientGroups = []RecipientGroup{}
	}
	for i := range p.DomainRules {
		if p.DomainRules[i].AllowedChannels == nil {
			p.DomainRules[i].AllowedChannels = []string{}
		}
	}
	if p.ChannelEligibility == nil {
		p.ChannelEligibility = map[string]bool{}
	}
	for _, c := range []string{Portal, Email, GRC} {
		if _, ok := p.ChannelEligibility[c]; !ok {
			p.ChannelEligibility[c] = d.ChannelEligibility[c]
		}
	}
	if p.MinimumTransport == "" {
		p.MinimumTransport = d.MinimumTransport
	}
}

func isDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Outcomes of an evaluation.
const (
	Allow           = "allow"
	RequireApproval = "require_approval"
	BlockedPolicy   = "blocked_policy"
)

// Reasons that classify a recipient's domain; UnknownDomain and External read them back
// from a recorded decision.
const (
	reasonDomainNotInPolicy = "domain_not_in_policy"
	reasonExternalRecipient = "external_recipient"
	reasonExternalAudited   = "external_recipient_audited"
	reasonExternalDenied    = "external_delivery_denied"
)

// Decision is the one outcome of evaluating a send. Reasons are stable codes, never
// addresses, so they can go into evidence as they are.
type Decision struct {
	Outcome string   `json:"outcome"`
	Reasons []string `json:"reasons"`
}

// ReasonScheduleApproval: a scheduled run asked for approval (its blackout window or its
// approval policy), whatever the recipient policy said.
const ReasonScheduleApproval = "schedule_requires_approval"

// ReasonScheduleApproved: a gated send of a scheduled run went ahead under its schedule's
// approval, which was bound to the same recipients.
const ReasonScheduleApproved = "approved_with_schedule"

// Evaluate decides a send of channel to recipients (lower-cased addresses). The strictest
// outcome over every recipient wins; reasons name every rule that applied.
func Evaluate(p Policy, channel string, recipients []string) Decision {
	d := Decision{Outcome: Allow, Reasons: []string{}}
	if !p.ChannelEligibility[channel] {
		d.raise(BlockedPolicy, "channel_not_eligible")
	}
	for _, addr := range recipients {
		rule, ok := p.rule(domainOf(addr))
		switch {
		case !ok:
			d.unknownDomain(p)
		case rule.Classification == BlockedDomain:
			d.raise(BlockedPolicy, "domain_blocked")
		case !slices.Contains(rule.AllowedChannels, channel):
			d.raise(BlockedPolicy, "channel_not_allowed_for_domain")
		case rule.Classification != Internal:
			d.external(p)
		}
	}
	return d
}

func (d *Decision) unknownDomain(p Policy) {
	switch p.DefaultAction {
	case "deny":
		d.raise(BlockedPolicy, reasonDomainNotInPolicy)
	case "require_approval":
		d.raise(RequireApproval, reasonDomainNotInPolicy)
	}
	d.external(p)
}

func (d *Decision) external(p Policy) {
	switch p.ExternalDeliveryDefault {
	case "deny":
		d.raise(BlockedPolicy, reasonExternalDenied)
	case "require_approval":
		d.raise(RequireApproval, reasonExternalRecipient)
	case "allow_with_audit":
		d.addReason(reasonExternalAudited)
	}
}

// UnknownDomain tells whether a recipient's domain had no rule in the evaluated policy.
func (d Decision) UnknownDomain() bool { return slices.Contains(d.Reasons, reasonDomainNotInPolicy) }

// External tells whether a recipient was evaluated as external (a domain without a rule
// counts as external too).
func (d Decision) External() bool {
	return slices.ContainsFunc(d.Reasons, func(r string) bool {
		return r == reasonExternalRecipient || r == reasonExternalAudited || r == reasonExternalDenied
	})
}

var severity = map[string]int{Allow: 0, RequireApproval: 1, BlockedPolicy: 2}

func (d *Decision) raise(outcome, reason string) {
	if severity[outcome] > severity[d.Outcome] {
		d.Outcome = outcome
	}
	d.addReason(reason)
}

func (d *Decision) addReason(reason string) {
	if !slices.Contains(d.Reasons, reason) {
		d.Reasons = append(d.Reasons, reason)
		slices.Sort(d.Reasons)
	}
}

func (p Policy) rule(domain string) (DomainRule, bool) {
	for _, r := range p.DomainRules {
		if r.Domain == domain {
			return r, true
		}
	}
	return DomainRule{}, false
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// parseAddress accepts one bare address (no display name) and lower-cases it.
func parseAddress(s string) (string, bool) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	local, domain, ok := strings.Cut(strings.ToLower(a.Address), "@")
	if !ok || local == "" || !isDomain(domain) {
		return "", false
	}
	return local + "@" + domain, true
}

// WithBlockedDomains adds a blocked rule for each of the settings' blocked domains that has
// no rule of its own, so the wizard's block list holds whatever the policy says.
func (p Policy) WithBlockedDomains(blocked []string) Policy {
	out := p
	out.DomainRules = slices.Clone(p.DomainRules)
	for _, d := range blocked {
		d = strings.ToLower(d)
		if _, ok := p.rule(d); !ok {
			out.DomainRules = append(out.DomainRules, DomainRule{Domain: d, Classification: BlockedDomain, AllowedChannels: []string{}})
		}
	}
	return out
}
