package publicexport

import (
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// SetupWizardContract is the aispm-report-setup-wizard-contract packet.
type SetupWizardContract struct {
	SchemaVersion        string            `json:"schema_version"`
	Product              string            `json:"product"`
	Edition              string            `json:"edition"`
	ContractVisibility   string            `json:"contract_visibility"`
	Wizard               wizard            `json:"wizard"`
	Steps                []wizardStep      `json:"steps"`
	DeliveryModes        []string          `json:"delivery_modes"`
	ValidationRules      []validationRule  `json:"validation_rules"`
	AdminSettings        adminSettings     `json:"admin_settings"`
	EnterpriseBoundaries map[string]string `json:"enterprise_boundaries"`
}

type wizard struct {
	WizardID       string `json:"wizard_id"`
	Title          string `json:"title"`
	Purpose        string `json:"purpose"`
	Implementation string `json:"implementation"`
}

type wizardStep struct {
	StepID       string   `json:"step_id"`
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Fields       []string `json:"fields"`
	Availability string   `json:"availability"`
}

type validationRule struct {
	RuleID      string `json:"rule_id"`
	Field       string `json:"field"`
	Requirement string `json:"requirement"`
	Enforcement string `json:"enforcement"`
}

type adminSettings struct {
	Required            []string `json:"required_public_settings"`
	Optional            []string `json:"optional_public_settings"`
	SecretReferences    []string `json:"secret_reference_settings"`
	SecretValuesAllowed bool     `json:"secret_values_allowed"`
}

var stepText = []struct{ id, title, description string }{
	{settings.StepOrganization, "Organization profile", "Name, time zone, data residency and report branding."},
	{settings.StepDelivery, "Delivery provider", "Delivery mode, sender and provider credentials given by reference only."},
	{settings.StepRecipients, "Recipient governance", "Allowed and blocked recipient domains, external delivery default and recipient limits."},
	{settings.StepSchedule, "Schedule and audit", "Delivery retries, approval timeout, audit checkpoint cadence and retention per record class."},
}

// setupWizardContract exports the setup wizard exactly as the validator enforces it for the
// tenant's settings: steps, fields and rules come from settings.Fields, and which settings
// are required follows the tenant's delivery mode.
func setupWizardContract(s State) (any, []Condition, error) {
	steps := make([]wizardStep, 0, len(stepText))
	for _, st := range stepText {
		var names []string
		for _, f := range settings.Fields {
			if f.Step == st.id {
				names = append(names, f.Name)
			}
		}
		steps = append(steps, wizardStep{StepID: st.id, Title: st.title, Description: st.description, Fields: names, Availability: requiresEnterprise})
	}
	var rules []validationRule
	admin := adminSettings{Required: []string{}, Optional: []string{}, SecretReferences: []string{}}
	for _, f := range settings.Fields {
		rules = append(rules, validationRule{RuleID: "rule_" + f.Name[len("CAVRA_REPORT_"):], Field: f.Name, Requirement: f.Requirement, Enforcement: requiresEnterprise})
		switch {
		case f.SecretRef:
			admin.SecretReferences = append(admin.SecretReferences, f.Name)
		case f.RequiredFor(s.Settings):
			admin.Required = append(admin.Required, f.Name)
		default:
			admin.Optional = append(admin.Optional, f.Name)
		}
	}
	rules = append(rules, validationRule{RuleID: "rule_NO_SECRET_VALUES", Field: "CAVRA_REPORT_*",
		Requirement: "no field accepts a secret value; credentials are given as references", Enforcement: requiresEnterprise})
	return SetupWizardContract{
		SchemaVersion: "cavra.aispm.report_setup_wizard_contract.v1", Product: product, Edition: editionEnterprise,
		ContractVisibility: publicContract,
		Wizard: wizard{WizardID: "aispm_report_delivery_setup", Title: "AISPM report delivery setup",
			Purpose: "Configure governed delivery of AISPM report packages for one tenant.", Implementation: requiresEnterprise},
		Steps: steps, DeliveryModes: settings.DeliveryModes, ValidationRules: rules, AdminSettings: admin,
		EnterpriseBoundaries: map[string]string{
			"wizard_ui": requiresEnterprise, "settings_persistence": requiresEnterprise, "secret_resolution": requiresEnterprise,
			"provider_validation": requiresEnterprise, "test_delivery": requiresEnterprise, "license_enforcement": requiresEnterprise,
		},
	}, nil, nil
}
