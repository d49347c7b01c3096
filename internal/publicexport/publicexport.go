// Package publicexport maps real tenant state to the public-safe packets of the public
// contracts. One function per contract; every packet passes the redaction scanner before it
// leaves, and a value the state does not support is never written (the honesty rule).
package publicexport

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Constant values every public packet carries.
const (
	product            = "CAVRA"
	editionEnterprise  = "enterprise"
	publicContract     = "public_contract"
	requiresEnterprise = "requires_cavra_enterprise"
)

// Contracts lists the export names the API and CLI accept.
var Contracts = []string{"delivery-contract", "setup-wizard-contract"}

// ErrUnknownContract is returned by Build for a name not in Contracts.
var ErrUnknownContract = errors.New("unknown public contract")

// Build writes the named export for tenant t with settings st.
func Build(name string, t tenancy.Tenant, st settings.Settings) ([]byte, error) {
	switch name {
	case "delivery-contract":
		return BuildDeliveryContract(t, st)
	case "setup-wizard-contract":
		return BuildSetupWizardContract(st)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownContract, name)
}

// scanned returns the packet's JSON after the redaction scanner accepts it.
func scanned(packet any) ([]byte, error) {
	raw, err := json.MarshalIndent(packet, "", "  ")
	if err != nil {
		return nil, err
	}
	if f := evidence.ScanJSON(raw); len(f) > 0 {
		return nil, fmt.Errorf("public export refused: %v", f[0])
	}
	return raw, nil
}
