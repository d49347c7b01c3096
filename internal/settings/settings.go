// Package settings is the setup wizard: a tenant's organization profile, delivery provider
// (by reference only: no secret value is ever accepted, stored or echoed), recipient
// governance, schedule and audit defaults, branding and retention.
package settings

// SchemaVersion of the stored document and of the PUT body (schemas/settings.schema.json).
const SchemaVersion = "aispm.report_settings.v1"

// Settings is the whole wizard document. PUT replaces it; omitted sections take defaults.
type Settings struct {
	SchemaVersion       string              `json:"schema_version"`
	OrganizationProfile OrganizationProfile `json:"organization_profile"`
	DeliveryProvider    DeliveryProvider    `json:"delivery_provider"`
	RecipientGovernance RecipientGovernance `json:"recipient_governance"`
	ScheduleAndAudit    ScheduleAndAudit    `json:"schedule_and_audit"`
	Branding            Branding            `json:"branding"`
	RetentionDays       RetentionDays       `json:"retention_days"`
	AccessTokens        AccessTokens        `json:"access_tokens"`
}

type OrganizationProfile struct {
	DisplayName         string `json:"display_name"`
	Industry            string `json:"industry,omitempty"`
	DefaultTimezone     string `json:"default_timezone"`
	DataResidencyRegion string `json:"data_residency_region,omitempty"`
}

type DeliveryProvider struct {
	Mode              string `json:"mode"`
	SenderAddress     string `json:"sender_address,omitempty"`
	SenderDisplayName string `json:"sender_display_name,omitempty"`
	// CredentialRef and WebhookSigningSecretRef name where a secret lives (a Secrets Manager
	// or SSM ARN, or a CAVRA_REPORT_*_REF name); the secret itself never enters the product.
	CredentialRef           string `json:"credential_ref,omitempty"`
	WebhookSigningSecretRef string `json:"webhook_signing_secret_ref,omitempty"`
	GRCExportPrefix         string `json:"grc_export_prefix,omitempty"`
	MaxAttachmentBytes      int    `json:"max_attachment_bytes"`
	// The SMTP family's submission server: required for mode smtp; for microsoft365,
	// google_workspace and sendgrid each overrides the provider's preset when set.
	SMTPHost     string `json:"smtp_host,omitempty"`
	SMTPPort     int    `json:"smtp_port,omitempty"`
	SMTPSecurity string `json:"smtp_security,omitempty"` // starttls | implicit
	SMTPUsername string `json:"smtp_username,omitempty"`
	// WebhookURL receives every delivery in mode webhook, signed with the secret
	// WebhookSigningSecretRef names.
	WebhookURL string `json:"webhook_url,omitempty"`
	// GRCWebhookURL, when set, is notified of each GRC export, signed with the secret
	// GRCWebhookSecretRef names.
	GRCWebhookURL       string `json:"grc_webhook_url,omitempty"`
	GRCWebhookSecretRef string `json:"grc_webhook_secret_ref,omitempty"`
}

type RecipientGovernance struct {
	AllowedDomains          []string `json:"allowed_domains"`
	BlockedDomains          []string `json:"blocked_domains"`
	ExternalDeliveryDefault string   `json:"external_delivery_default"`
	MaxRecipientsPerSend    int      `json:"max_recipients_per_send"`
}

type ScheduleAndAudit struct {
	MaxDeliveryAttempts    int `json:"max_delivery_attempts"`
	RetryBaseSeconds       int `json:"retry_base_seconds"`
	ApprovalTimeoutHours   int `json:"approval_timeout_hours"`
	AuditCheckpointEntries int `json:"audit_checkpoint_entries"`
	AuditCheckpointSeconds int `json:"audit_checkpoint_seconds"`
	// MinScheduleIntervalMinutes is the shortest gap between two runs of a report schedule;
	// Holidays ("YYYY-MM-DD") are the tenant's calendar, skipped by business-day schedules.
	MinScheduleIntervalMinutes int      `json:"min_schedule_interval_minutes"`
	Holidays                   []string `json:"holidays"`
}

type Branding struct {
	PrimaryColor      string `json:"primary_color"`
	AccentColor       string `json:"accent_color"`
	ReportTitlePrefix string `json:"report_title_prefix,omitempty"`
	FooterText        string `json:"footer_text,omitempty"`
	LogoRef           string `json:"logo_ref,omitempty"`
}

// AccessTokens bound API token lifetimes: a token is issued for DefaultTTLDays unless asked
// for less or more, and never for more than MaxTTLDays.
type AccessTokens struct {
	DefaultTTLDays int `json:"default_ttl_days"`
	MaxTTLDays     int `json:"max_ttl_days"`
}

// Token lifetime bounds, in days.
const (
	DefaultTokenTTLDays = 90
	DefaultTokenMaxDays = 365
	MaxTokenTTLDays     = 730
)

// RetentionDays per retention class. legal_hold has no duration: it lasts until released.
type RetentionDays struct {
	OperationalRecord int `json:"operational_record"`
	GovernanceRecord  int `json:"governance_record"`
	AuditRecord       int `json:"audit_record"`
}

// Minimum retention per class; shorter settings are refused.
const (
	MinOperationalDays = 30
	MinGovernanceDays  = 365
	MinAuditDays       = 1095
	MaxRetentionDays   = 3650
)

// Delivery modes the product knows (the public contract's list).
var DeliveryModes = []string{"disabled", "smtp", "microsoft365", "google_workspace", "ses", "sendgrid", "webhook"}

// External delivery defaults.
var ExternalDefaults = []string{"deny", "require_approval", "allow_with_audit"}

// Defaults is what a new tenant starts with and what an omitted section becomes.
func Defaults(displayName string) Settings {
	return Settings{
		SchemaVersion:       SchemaVersion,
		OrganizationProfile: OrganizationProfile{DisplayName: displayName, DefaultTimezone: "UTC"},
		DeliveryProvider:    DeliveryProvider{Mode: "disabled", MaxAttachmentBytes: 5 << 20},
		RecipientGovernance: RecipientGovernance{
			AllowedDomains: []string{}, BlockedDomains: []string{},
			ExternalDeliveryDefault: "require_approval", MaxRecipientsPerSend: 25,
		},
		ScheduleAndAudit: ScheduleAndAudit{
			MaxDeliveryAttempts: 5, RetryBaseSeconds: 30, ApprovalTimeoutHours: 72,
			AuditCheckpointEntries: 1000, AuditCheckpointSeconds: 300,
			MinScheduleIntervalMinutes: 60, Holidays: []string{},
		},
		Branding:      Branding{PrimaryColor: "#1F3A5F", AccentColor: "#2E86AB"},
		RetentionDays: RetentionDays{OperationalRecord: 90, GovernanceRecord: 365, AuditRecord: 2555},
		AccessTokens:  AccessTokens{DefaultTTLDays: DefaultTokenTTLDays, MaxTTLDays: DefaultTokenMaxDays},
	}
}
