package settings

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/lazyregexp"
)

// Step ids of the wizard (the public contract's list).
const (
	StepOrganization = "organization_profile"
	StepDelivery     = "delivery_provider"
	StepRecipients   = "recipient_governance"
	StepSchedule     = "schedule_and_audit"
)

// Field describes one setting: its public name, wizard step, JSON path in the document, the
// rule it must satisfy and the check that enforces exactly that rule. The validator and the
// public setup-wizard export both read this one table, so they cannot disagree.
type Field struct {
	Name     string // CAVRA_REPORT_*
	Step     string
	Path     string // JSON path in Settings
	Required bool
	// RequiredModes makes the field required when the delivery mode is one of these.
	RequiredModes []string
	SecretRef     bool
	Requirement   string
	check         func(Settings) error
}

var (
	// Lengths are bounded by the schema (maxLength), not here: a counted repeat such as
	// {1,1000} makes Go's regexp compile a thousand-state program at every cold start.
	secretRefPattern = lazyregexp.New(`^(arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|arn:aws:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9/_.-]+|CAVRA_REPORT_[A-Z0-9_]+_REF)$`)
	labelPattern     = lazyregexp.New(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	tldPattern       = lazyregexp.New(`^[a-z]+$`)
	colorPattern     = lazyregexp.New(`^#[0-9A-Fa-f]{6}$`)
	prefixPattern    = lazyregexp.New(`^[a-z0-9][a-z0-9/_-]*$`)
	objectRefPattern = lazyregexp.New(`^[a-z_]+:[A-Za-z0-9._/-]+$`)
)

// Fields is the table of every setting.
var Fields = []Field{
	{Name: "CAVRA_REPORT_ORG_DISPLAY_NAME", Step: StepOrganization, Path: "organization_profile.display_name", Required: true,
		Requirement: "1 to 120 characters",
		check:       func(s Settings) error { return textLen(s.OrganizationProfile.DisplayName, 1, 120) }},
	{Name: "CAVRA_REPORT_ORG_INDUSTRY", Step: StepOrganization, Path: "organization_profile.industry",
		Requirement: "at most 80 characters",
		check:       func(s Settings) error { return textLen(s.OrganizationProfile.Industry, 0, 80) }},
	{Name: "CAVRA_REPORT_DEFAULT_TIMEZONE", Step: StepOrganization, Path: "organization_profile.default_timezone", Required: true,
		Requirement: "an IANA time zone name",
		check:       func(s Settings) error { return timezone(s.OrganizationProfile.DefaultTimezone) }},
	{Name: "CAVRA_REPORT_DATA_RESIDENCY_REGION", Step: StepOrganization, Path: "organization_profile.data_residency_region",
		Requirement: "an AWS region name such as eu-central-1, or empty",
		check: func(s Settings) error {
			return optionalMatch(s.OrganizationProfile.DataResidencyRegion, regionPattern, "an AWS region name")
		}},
	{Name: "CAVRA_REPORT_BRAND_PRIMARY_COLOR", Step: StepOrganization, Path: "branding.primary_color", Required: true,
		Requirement: "a #RRGGBB colour",
		check:       func(s Settings) error { return match(s.Branding.PrimaryColor, colorPattern, "a #RRGGBB colour") }},
	{Name: "CAVRA_REPORT_BRAND_ACCENT_COLOR", Step: StepOrganization, Path: "branding.accent_color", Required: true,
		Requirement: "a #RRGGBB colour",
		check:       func(s Settings) error { return match(s.Branding.AccentColor, colorPattern, "a #RRGGBB colour") }},
	{Name: "CAVRA_REPORT_BRAND_TITLE_PREFIX", Step: StepOrganization, Path: "branding.report_title_prefix",
		Requirement: "at most 60 characters",
		check:       func(s Settings) error { return textLen(s.Branding.ReportTitlePrefix, 0, 60) }},
	{Name: "CAVRA_REPORT_BRAND_FOOTER_TEXT", Step: StepOrganization, Path: "branding.footer_text",
		Requirement: "at most 200 characters",
		check:       func(s Settings) error { return textLen(s.Branding.FooterText, 0, 200) }},
	{Name: "CAVRA_REPORT_BRAND_LOGO_REF", Step: StepOrganization, Path: "branding.logo_ref",
		Requirement: "an opaque object ref such as asset:logo.png, or empty",
		check: func(s Settings) error {
			return optionalMatch(s.Branding.LogoRef, objectRefPattern, "an opaque object ref")
		}},
	{Name: "CAVRA_REPORT_DELIVERY_MODE", Step: StepDelivery, Path: "delivery_provider.mode", Required: true,
		Requirement: "one of " + strings.Join(DeliveryModes, ", "),
		check:       func(s Settings) error { return oneOf(s.DeliveryProvider.Mode, DeliveryModes) }},
	{Name: "CAVRA_REPORT_SENDER_ADDRESS", Step: StepDelivery, Path: "delivery_provider.sender_address", RequiredModes: emailModes,
		Requirement: "a plain email address; required for every email delivery mode",
		check:       senderAddress},
	{Name: "CAVRA_REPORT_SENDER_DISPLAY_NAME", Step: StepDelivery, Path: "delivery_provider.sender_display_name",
		Requirement: "at most 80 characters",
		check:       func(s Settings) error { return textLen(s.DeliveryProvider.SenderDisplayName, 0, 80) }},
	{Name: "CAVRA_REPORT_PROVIDER_CREDENTIAL_REF", Step: StepDelivery, Path: "delivery_provider.credential_ref", SecretRef: true, RequiredModes: credentialModes,
		Requirement: "a Secrets Manager or SSM parameter ARN, or a CAVRA_REPORT_*_REF name; required for smtp, microsoft365, google_workspace and sendgrid",
		check:       credentialRef},
	{Name: "CAVRA_REPORT_WEBHOOK_SIGNING_SECRET_REF", Step: StepDelivery, Path: "delivery_provider.webhook_signing_secret_ref", SecretRef: true, RequiredModes: []string{"webhook"},
		Requirement: "a Secrets Manager or SSM parameter ARN, or a CAVRA_REPORT_*_REF name; required for webhook",
		check:       webhookRef},
	{Name: "CAVRA_REPORT_GRC_EXPORT_PREFIX", Step: StepDelivery, Path: "delivery_provider.grc_export_prefix",
		Requirement: "lower-case letters, digits, '/', '_' or '-', at most 128 characters, or empty",
		check: func(s Settings) error {
			return optionalMatch(s.DeliveryProvider.GRCExportPrefix, prefixPattern, "a lower-case path prefix")
		}},
	{Name: "CAVRA_REPORT_SMTP_HOST", Step: StepDelivery, Path: "delivery_provider.smtp_host", RequiredModes: []string{"smtp"},
		Requirement: "a host name or address of the SMTP submission server, on a public address; required for smtp, an override of the preset for microsoft365, google_workspace and sendgrid",
		check:       smtpHost},
	{Name: "CAVRA_REPORT_SMTP_PORT", Step: StepDelivery, Path: "delivery_provider.smtp_port",
		Requirement: "1 to 65535, or 0 for the preset (587)",
		check:       func(s Settings) error { return between(s.DeliveryProvider.SMTPPort, 0, 65535) }},
	{Name: "CAVRA_REPORT_SMTP_SECURITY", Step: StepDelivery, Path: "delivery_provider.smtp_security",
		Requirement: "starttls or implicit, or empty for the preset (starttls); never plain text",
		check: func(s Settings) error {
			if s.DeliveryProvider.SMTPSecurity == "" {
				return nil
			}
			return oneOf(s.DeliveryProvider.SMTPSecurity, []string{"starttls", "implicit"})
		}},
	{Name: "CAVRA_REPORT_SMTP_USERNAME", Step: StepDelivery, Path: "delivery_provider.smtp_username",
		Requirement: "at most 254 characters; empty for the preset's (apikey for sendgrid, else the sender address)",
		check:       func(s Settings) error { return textLen(s.DeliveryProvider.SMTPUsername, 0, 254) }},
	{Name: "CAVRA_REPORT_WEBHOOK_URL", Step: StepDelivery, Path: "delivery_provider.webhook_url", RequiredModes: []string{"webhook"},
		Requirement: "an https URL on a public address; required for webhook",
		check: func(s Settings) error {
			return webhookURL(s.DeliveryProvider.WebhookURL, s.DeliveryProvider.Mode == "webhook")
		}},
	{Name: "CAVRA_REPORT_GRC_WEBHOOK_URL", Step: StepDelivery, Path: "delivery_provider.grc_webhook_url",
		Requirement: "an https URL on a public address notified of each GRC export, or empty",
		check:       func(s Settings) error { return webhookURL(s.DeliveryProvider.GRCWebhookURL, false) }},
	{Name: "CAVRA_REPORT_GRC_WEBHOOK_SECRET_REF", Step: StepDelivery, Path: "delivery_provider.grc_webhook_secret_ref", SecretRef: true,
		Requirement: "a Secrets Manager or SSM parameter ARN, or a CAVRA_REPORT_*_REF name; required with a GRC webhook URL",
		check: func(s Settings) error {
			r := s.DeliveryProvider.GRCWebhookSecretRef
			if r == "" && s.DeliveryProvider.GRCWebhookURL != "" {
				return fmt.Errorf("required with grc_webhook_url")
			}
			return secretRef(r)
		}},
	{Name: "CAVRA_REPORT_MAX_ATTACHMENT_BYTES", Step: StepDelivery, Path: "delivery_provider.max_attachment_bytes", Required: true,
		Requirement: "1024 to 10485760 bytes",
		check:       func(s Settings) error { return between(s.DeliveryProvider.MaxAttachmentBytes, 1024, 10<<20) }},
	{Name: "CAVRA_REPORT_ALLOWED_RECIPIENT_DOMAINS", Step: StepRecipients, Path: "recipient_governance.allowed_domains", Required: true,
		Requirement: "at most 200 lower-case domain names, none also blocked",
		check:       allowedDomains},
	{Name: "CAVRA_REPORT_BLOCKED_RECIPIENT_DOMAINS", Step: StepRecipients, Path: "recipient_governance.blocked_domains",
		Requirement: "at most 200 lower-case domain names",
		check:       func(s Settings) error { return domains(s.RecipientGovernance.BlockedDomains) }},
	{Name: "CAVRA_REPORT_EXTERNAL_DELIVERY_DEFAULT", Step: StepRecipients, Path: "recipient_governance.external_delivery_default", Required: true,
		Requirement: "one of " + strings.Join(ExternalDefaults, ", "),
		check:       func(s Settings) error { return oneOf(s.RecipientGovernance.ExternalDeliveryDefault, ExternalDefaults) }},
	{Name: "CAVRA_REPORT_MAX_RECIPIENTS_PER_SEND", Step: StepRecipients, Path: "recipient_governance.max_recipients_per_send", Required: true,
		Requirement: "1 to 500",
		check:       func(s Settings) error { return between(s.RecipientGovernance.MaxRecipientsPerSend, 1, 500) }},
	{Name: "CAVRA_REPORT_MAX_DELIVERY_ATTEMPTS", Step: StepSchedule, Path: "schedule_and_audit.max_delivery_attempts", Required: true,
		Requirement: "1 to 10",
		check:       func(s Settings) error { return between(s.ScheduleAndAudit.MaxDeliveryAttempts, 1, 10) }},
	{Name: "CAVRA_REPORT_RETRY_BASE_SECONDS", Step: StepSchedule, Path: "schedule_and_audit.retry_base_seconds", Required: true,
		Requirement: "1 to 3600 seconds",
		check:       func(s Settings) error { return between(s.ScheduleAndAudit.RetryBaseSeconds, 1, 3600) }},
	{Name: "CAVRA_REPORT_APPROVAL_TIMEOUT_HOURS", Step: StepSchedule, Path: "schedule_and_audit.approval_timeout_hours", Required: true,
		Requirement: "1 to 720 hours",
		check:       func(s Settings) error { return between(s.ScheduleAndAudit.ApprovalTimeoutHours, 1, 720) }},
	{Name: "CAVRA_REPORT_AUDIT_CHECKPOINT_ENTRIES", Step: StepSchedule, Path: "schedule_and_audit.audit_checkpoint_entries", Required: true,
		Requirement: "10 to 100000 entries",
		check:       func(s Settings) error { return between(s.ScheduleAndAudit.AuditCheckpointEntries, 10, 100000) }},
	{Name: "CAVRA_REPORT_AUDIT_CHECKPOINT_SECONDS", Step: StepSchedule, Path: "schedule_and_audit.audit_checkpoint_seconds", Required: true,
		Requirement: "10 to 86400 seconds",
		check:       func(s Settings) error { return between(s.ScheduleAndAudit.AuditCheckpointSeconds, 10, 86400) }},
	{Name: "CAVRA_REPORT_MIN_SCHEDULE_INTERVAL_MINUTES", Step: StepSchedule, Path: "schedule_and_audit.min_schedule_interval_minutes", Required: true,
		Requirement: "5 to 10080 minutes",
		check:       func(s Settings) error { return between(s.ScheduleAndAudit.MinScheduleIntervalMinutes, 5, 10080) }},
	{Name: "CAVRA_REPORT_HOLIDAYS", Step: StepSchedule, Path: "schedule_and_audit.holidays",
		Requirement: "up to 500 distinct calendar dates YYYY-MM-DD",
		check:       func(s Settings) error { return dates(s.ScheduleAndAudit.Holidays) }},
	{Name: "CAVRA_REPORT_RETENTION_OPERATIONAL_DAYS", Step: StepSchedule, Path: "retention_days.operational_record", Required: true,
		Requirement: fmt.Sprintf("%d to %d days", MinOperationalDays, MaxRetentionDays),
		check: func(s Settings) error {
			return between(s.RetentionDays.OperationalRecord, MinOperationalDays, MaxRetentionDays)
		}},
	{Name: "CAVRA_REPORT_RETENTION_GOVERNANCE_DAYS", Step: StepSchedule, Path: "retention_days.governance_record", Required: true,
		Requirement: fmt.Sprintf("%d to %d days", MinGovernanceDays, MaxRetentionDays),
		check: func(s Settings) error {
			return between(s.RetentionDays.GovernanceRecord, MinGovernanceDays, MaxRetentionDays)
		}},
	{Name: "CAVRA_REPORT_RETENTION_AUDIT_DAYS", Step: StepSchedule, Path: "retention_days.audit_record", Required: true,
		Requirement: fmt.Sprintf("%d to %d days", MinAuditDays, MaxRetentionDays),
		check:       func(s Settings) error { return between(s.RetentionDays.AuditRecord, MinAuditDays, MaxRetentionDays) }},
	{Name: "CAVRA_REPORT_TOKEN_DEFAULT_TTL_DAYS", Step: StepSchedule, Path: "access_tokens.default_ttl_days", Required: true,
		Requirement: "1 day to access_tokens.max_ttl_days",
		check: func(s Settings) error {
			return between(s.AccessTokens.DefaultTTLDays, 1, max(1, s.AccessTokens.MaxTTLDays))
		}},
	{Name: "CAVRA_REPORT_TOKEN_MAX_TTL_DAYS", Step: StepSchedule, Path: "access_tokens.max_ttl_days", Required: true,
		Requirement: fmt.Sprintf("1 to %d days", MaxTokenTTLDays),
		check:       func(s Settings) error { return between(s.AccessTokens.MaxTTLDays, 1, MaxTokenTTLDays) }},
}

var (
	regionPattern = lazyregexp.New(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
	hostPattern   = lazyregexp.New(`^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$|^[0-9a-fA-F:.]+$`)
)

// emailModes deliver by email and so need a sender address; credentialModes also need a
// credential reference (SES uses the service's own IAM role).
var (
	emailModes      = []string{"smtp", "microsoft365", "google_workspace", "ses", "sendgrid"}
	credentialModes = []string{"smtp", "microsoft365", "google_workspace", "sendgrid"}
)

// RequiredFor tells whether the field is required for a tenant with settings s.
func (f Field) RequiredFor(s Settings) bool {
	return f.Required || slices.Contains(f.RequiredModes, s.DeliveryProvider.Mode)
}

func senderAddress(s Settings) error {
	a := s.DeliveryProvider.SenderAddress
	if a == "" {
		if slices.Contains(emailModes, s.DeliveryProvider.Mode) {
			return fmt.Errorf("required when mode is %s", s.DeliveryProvider.Mode)
		}
		return nil
	}
	parsed, err := mail.ParseAddress(a)
	if err != nil || parsed.Address != a || parsed.Name != "" {
		return fmt.Errorf("must be a plain email address")
	}
	return nil
}

func credentialRef(s Settings) error {
	r := s.DeliveryProvider.CredentialRef
	needs := slices.Contains(credentialModes, s.DeliveryProvider.Mode)
	if r == "" && needs {
		return fmt.Errorf("required when mode is %s", s.DeliveryProvider.Mode)
	}
	return secretRef(r)
}

func webhookRef(s Settings) error {
	r := s.DeliveryProvider.WebhookSigningSecretRef
	if r == "" && s.DeliveryProvider.Mode == "webhook" {
		return fmt.Errorf("required when mode is webhook")
	}
	return secretRef(r)
}

func smtpHost(s Settings) error {
	h := s.DeliveryProvider.SMTPHost
	if h == "" {
		if s.DeliveryProvider.Mode == "smtp" {
			return fmt.Errorf("required when mode is smtp")
		}
		return nil
	}
	if len(h) > 253 || !hostPattern.MatchString(h) {
		return fmt.Errorf("must be a host name or an IP address")
	}
	return nil
}

// webhookURL accepts an https URL with a host and nothing that could carry a credential
// (no user info) or be ignored (no fragment).
func webhookURL(raw string, required bool) error {
	if raw == "" {
		if required {
			return fmt.Errorf("required when mode is webhook")
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("must be an https URL with a host, without user info or fragment")
	}
	return nil
}

func secretRef(r string) error {
	if r != "" && !secretRefPattern.MatchString(r) {
		return errNotARef
	}
	return nil
}

func allowedDomains(s Settings) error {
	if err := domains(s.RecipientGovernance.AllowedDomains); err != nil {
		return err
	}
	for _, d := range s.RecipientGovernance.AllowedDomains {
		if slices.Contains(s.RecipientGovernance.BlockedDomains, d) {
			return fmt.Errorf("%s is also in blocked_domains", d)
		}
	}
	return nil
}

func domains(list []string) error {
	if len(list) > 200 {
		return fmt.Errorf("at most 200 domains")
	}
	seen := map[string]bool{}
	for _, d := range list {
		if !isDomain(d) {
			return fmt.Errorf("%q is not a lower-case domain name", d)
		}
		if seen[d] {
			return fmt.Errorf("%s is listed twice", d)
		}
		seen[d] = true
	}
	return nil
}

func dates(list []string) error {
	if len(list) > 500 {
		return fmt.Errorf("at most 500 dates")
	}
	seen := map[string]bool{}
	for _, d := range list {
		if _, err := time.Parse("2006-01-02", d); err != nil || seen[d] {
			return fmt.Errorf("each must be a distinct date YYYY-MM-DD")
		}
		seen[d] = true
	}
	return nil
}

func textLen(v string, lo, hi int) error {
	n := len([]rune(v))
	if n < lo || n > hi {
		if lo > 0 && n == 0 {
			return fmt.Errorf("is required")
		}
		return fmt.Errorf("must be %d to %d characters", lo, hi)
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("must be a single line")
	}
	return nil
}

func timezone(v string) error {
	if v == "" || v == "Local" {
		return fmt.Errorf("must be an IANA time zone name")
	}
	if _, err := time.LoadLocation(v); err != nil {
		return fmt.Errorf("unknown time zone")
	}
	return nil
}

func match(v string, re *lazyregexp.Regexp, what string) error {
	if !re.MatchString(v) {
		return fmt.Errorf("must be %s", what)
	}
	return nil
}

func optionalMatch(v string, re *lazyregexp.Regexp, what string) error {
	if v == "" {
		return nil
	}
	return match(v, re, what)
}

func oneOf(v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
	return nil
}

func between(v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("must be between %d and %d", lo, hi)
	}
	return nil
}

// isDomain accepts a lower-case DNS name: labels of 1-63 letters, digits or inner hyphens,
// ending in an alphabetic top-level label of 2-63 letters, 253 characters at most.
func isDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if len(l) == 0 || len(l) > 63 || !labelPattern.MatchString(l) {
			return false
		}
		if i == len(labels)-1 && (len(l) < 2 || !tldPattern.MatchString(l)) {
			return false
		}
	}
	return true
}
