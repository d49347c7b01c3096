// Package publicexport maps real tenant state to the public-safe packets of the public
// contracts. One function per contract; every packet passes the redaction scanner before it
// leaves, and a value the state does not support is never written (the honesty rule).
package publicexport

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// Constant values every public packet carries.
const (
	product            = "CAVRA"
	editionEnterprise  = "enterprise"
	publicContract     = "public_contract"
	requiresEnterprise = "requires_cavra_enterprise"
)

// PublicContracts names every public contract, in the order of their schema files (each
// schema's file name without "aispm-report-" and ".schema.json"). The product keeps the list
// itself rather than reading the schema folder at run time; a test holds it to the folder.
var PublicContracts = []string{
	"alert-drilldown", "alert-escalation", "alert-operations-dashboard", "alert-remediation-closure",
	"alert-remediation-plan", "approval-decision", "center-trial-evaluator-handoff-packet",
	"center-trial-lab-notebook-outline", "center-trial-lab-notebook-publication-readiness",
	"center-trial-operator-api-view-model", "center-trial-operator-dashboard-readiness",
	"center-trial-revocation-expiry-evidence", "center-trial-validation-packet", "delivery-audit-event",
	"delivery-contract", "evidence-room-access-event", "evidence-room", "exception-lifecycle",
	"export-package-manifest", "incident-closure", "incident-packet", "kpi-metrics", "operations-dashboard",
	"recipient-policy", "remediation-closure-digest-distribution", "remediation-closure-executive-digest",
	"remediation-closure-operations-dashboard", "retention-lifecycle", "schedule-policy", "search-retrieval",
	"setup-wizard-contract",
}

// builder gathers one contract's packet from the state, or the conditions the state does not
// meet yet (then no packet). The export and the readiness view both call it, so a contract
// is ready exactly when its export succeeds.
type builder func(State) (packet any, unmet []Condition, err error)

// builders are the contracts the product builds; every other public contract is refused as
// not implemented.
var builders = map[string]builder{
	"delivery-contract":       deliveryContract,
	"setup-wizard-contract":   setupWizardContract,
	"export-package-manifest": packageManifest,
	"retention-lifecycle":     retentionLifecycle,
	"search-retrieval":        searchRetrieval,
	"recipient-policy":        recipientPolicy,
	"delivery-audit-event":    deliveryAuditEvent,
	"approval-decision":       approvalDecision,
	"schedule-policy":         schedulePolicy,
}

// Contracts lists the exports the product builds.
var Contracts = slices.Sorted(maps.Keys(builders))

// ErrUnknownContract is returned by Build for a name not in PublicContracts.
var ErrUnknownContract = errors.New("unknown public contract")

// Build writes the named export from the tenant's state, or refuses it (409
// export_not_ready) naming every condition the state does not meet.
func Build(name string, s State) ([]byte, error) {
	raw, unmet, err := prepare(name, s)
	if err != nil {
		return nil, err
	}
	if len(unmet) > 0 {
		return nil, notReady(unmet)
	}
	return raw, nil
}

// prepare builds the scanned packet of a public contract, or returns its unmet conditions.
func prepare(name string, s State) ([]byte, []Condition, error) {
	build, ok := builders[name]
	if !ok {
		if slices.Contains(PublicContracts, name) {
			return nil, []Condition{notImplemented}, nil
		}
		return nil, nil, fmt.Errorf("%w %q", ErrUnknownContract, name)
	}
	packet, unmet, err := build(s)
	if err != nil || len(unmet) > 0 {
		return nil, unmet, err
	}
	raw, err := scanned(packet)
	return raw, nil, err
}

// scanned returns the packet's JSON after the redaction scanner accepts it.
func scanned(packet any) ([]byte, error) {
	raw, err := json.MarshalIndent(packet, "", "  ")
	if err != nil {
		return nil, err
	}
	if f := evidence.ScanJSON(withoutContractKeys(raw)); len(f) > 0 {
		return nil, fmt.Errorf("public export refused: %v", f[0])
	}
	return raw, nil
}

// notReady is the honesty rule's refusal: the state cannot back the packet yet.
func notReady(unmet []Condition) error {
	msgs := make([]string, len(unmet))
	for i, c := range unmet {
		msgs[i] = c.Message
	}
	return problem.New(problem.Conflict, "export_not_ready", "contract", strings.Join(msgs, "; "))
}

func redaction() map[string]any {
	return map[string]any{
		"raw_report_content_included": false, "recipient_addresses_included": false,
		"customer_records_included": false, "secrets_included": false, "payload_handling": "metadata_only",
	}
}

func boundaries(keys ...string) map[string]string {
	m := map[string]string{"license_enforcement": requiresEnterprise}
	for _, k := range keys {
		m[k] = requiresEnterprise
	}
	return m
}

// contractKeys are field names the public schemas themselves define that contain the
// "download_url" marker (every such key of the 31 public schemas); they hold a boolean, an
// opaque ref or the enterprise-boundary constant, never a link. The scanner sees them
// renamed, so the key is exempt while its value is still scanned.
var contractKeys = strings.NewReplacer(
	`"download_url_ref": `, `"dl_ref": `, `"download_url_included": `, `"dl_included": `,
	`"download_urls_included": `, `"dls_included": `, `"signed_download_urls": `, `"signed_dls": `,
)

func withoutContractKeys(raw []byte) []byte { return []byte(contractKeys.Replace(string(raw))) }
