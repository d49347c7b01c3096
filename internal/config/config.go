// Package config reads the typed configuration of every entry point from a lookup function
// (os.LookupEnv in production, a map in tests).
package config

import (
	"fmt"
	"net"
	"strings"
)

// Lookup returns an environment value and whether it is set.
type Lookup func(string) (string, bool)

// Names of the environment variables.
const (
	EnvListen         = "AISPM_LISTEN"
	EnvDataDir        = "AISPM_DATA_DIR"
	EnvPublicBaseURL  = "AISPM_PUBLIC_BASE_URL"
	EnvTable          = "AISPM_TABLE"
	EnvArtifactBucket = "AISPM_ARTIFACT_BUCKET"
	EnvAWSEndpoint    = "AISPM_AWS_ENDPOINT"
	EnvRegion         = "AWS_REGION"
	// EnvSigningKeyID is the KMS key (id, ARN or alias; ECC_NIST_P256, SIGN_VERIFY) that
	// signs package manifests.
	EnvSigningKeyID = "AISPM_SIGNING_KEY_ID"
	// EnvScheduleTargetARN and EnvScheduleRoleARN are the schedule-runner function every
	// EventBridge schedule fires and the role the scheduler assumes to invoke it.
	EnvScheduleTargetARN = "AISPM_SCHEDULE_TARGET_ARN"
	EnvScheduleRoleARN   = "AISPM_SCHEDULE_ROLE_ARN"
	// EnvScheduleDeadLetterARN is the SQS queue where EventBridge Scheduler puts a firing it
	// could not deliver after its retries (the role above may send to it); optional.
	EnvScheduleDeadLetterARN = "AISPM_SCHEDULE_DEAD_LETTER_ARN"
	// EnvSESEnabled ("true") sends email through SES v2 (ses:SendRawEmail on the sender
	// identities); unset, an email send dead-letters as provider_auth.
	EnvSESEnabled = "AISPM_SES_ENABLED"
	// EnvApprovalStateMachineARN and EnvApprovalActivityARN name the Step Functions approval
	// gate (sfngate.Provision); unset, a send that needs approval is refused with 409.
	EnvApprovalStateMachineARN = "AISPM_APPROVAL_STATE_MACHINE_ARN"
	EnvApprovalActivityARN     = "AISPM_APPROVAL_ACTIVITY_ARN"
	// EnvSESEndpoint points the SES client alone at another emulator endpoint than
	// AISPM_AWS_ENDPOINT (the emulator target sends mail to moto, whose SES keeps raw MIME
	// attachments); never set in AWS.
	EnvSESEndpoint = "AISPM_SES_ENDPOINT"
	// EnvAllowPrivateTargets ("true", or "false" embedded) lets tenants' SMTP relays and
	// webhooks be on loopback, private or link-local addresses. A setting of the
	// deployment, never of a tenant: off in AWS unless set, on by default embedded (the
	// local server is one operator's machine, whose relay is often local).
	EnvAllowPrivateTargets = "AISPM_ALLOW_PRIVATE_TARGETS"
	// EnvTrustedCAFile is a PEM file of CA certificates trusted, beside the system's, by
	// the TLS connections deliveries make (a private relay's CA); optional.
	EnvTrustedCAFile = "AISPM_TRUSTED_CA_FILE"
)

// Embedded configures `aispm-reports serve`.
type Embedded struct {
	Listen        string // loopback host:port
	DataDir       string
	PublicBaseURL string // where presigned object links point; derived from Listen by default
	// AllowPrivateTargets: tenants' relays and webhooks may be on private addresses.
	AllowPrivateTargets bool
	TrustedCAFile       string
}

// LoadEmbedded reads the embedded configuration with defaults.
func LoadEmbedded(lookup Lookup) (Embedded, error) {
	c := Embedded{
		Listen:  get(lookup, EnvListen, "127.0.0.1:8787"),
		DataDir: get(lookup, EnvDataDir, "data"),

		AllowPrivateTargets: get(lookup, EnvAllowPrivateTargets, "true") != "false",
		TrustedCAFile:       get(lookup, EnvTrustedCAFile, ""),
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return Embedded{}, fmt.Errorf("%s: %w", EnvListen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return Embedded{}, fmt.Errorf("%s: the local server binds to a loopback address only, not %q", EnvListen, host)
	}
	c.PublicBaseURL = strings.TrimSuffix(get(lookup, EnvPublicBaseURL, "http://"+c.Listen), "/")
	return c, nil
}

// AWS configures a Lambda function.
type AWS struct {
	Region         string
	Endpoint       string // emulator endpoint; empty in AWS
	Table          string
	ArtifactBucket string
	// SigningKeyID, ScheduleTargetARN and ScheduleRoleARN are optional: a function whose
	// route never signs or schedules runs without them; one that needs them fails its
	// request with a configuration error (logged) rather than failing to start.
	SigningKeyID      string
	ScheduleTargetARN string
	ScheduleRoleARN   string
	// ScheduleDeadLetterARN is optional too, and only with a schedule target.
	ScheduleDeadLetterARN string
	// SESEnabled, ApprovalStateMachineARN and ApprovalActivityARN configure delivery.
	SESEnabled              bool
	SESEndpoint             string // emulator only: the SES client's endpoint
	ApprovalStateMachineARN string
	ApprovalActivityARN     string
	// AllowPrivateTargets: tenants' relays and webhooks may be on private addresses.
	AllowPrivateTargets bool
	TrustedCAFile       string
}

// LoadAWS reads the Lambda configuration; the table and bucket are required.
func LoadAWS(lookup Lookup) (AWS, error) {
	c := AWS{
		Region:         get(lookup, EnvRegion, "us-east-1"),
		Endpoint:       get(lookup, EnvAWSEndpoint, ""),
		Table:          get(lookup, EnvTable, ""),
		ArtifactBucket: get(lookup, EnvArtifactBucket, ""),

		SigningKeyID:      get(lookup, EnvSigningKeyID, ""),
		ScheduleTargetARN: get(lookup, EnvScheduleTargetARN, ""),
		ScheduleRoleARN:   get(lookup, EnvScheduleRoleARN, ""),

		ScheduleDeadLetterARN: get(lookup, EnvScheduleDeadLetterARN, ""),

		SESEnabled:              get(lookup, EnvSESEnabled, "") == "true",
		SESEndpoint:             get(lookup, EnvSESEndpoint, ""),
		ApprovalStateMachineARN: get(lookup, EnvApprovalStateMachineARN, ""),
		ApprovalActivityARN:     get(lookup, EnvApprovalActivityARN, ""),

		AllowPrivateTargets: get(lookup, EnvAllowPrivateTargets, "") == "true",
		TrustedCAFile:       get(lookup, EnvTrustedCAFile, ""),
	}
	if (c.ApprovalStateMachineARN == "") != (c.ApprovalActivityARN == "") {
		return AWS{}, fmt.Errorf("set both %s and %s, or neither", EnvApprovalStateMachineARN, EnvApprovalActivityARN)
	}
	if (c.ScheduleTargetARN == "") != (c.ScheduleRoleARN == "") {
		return AWS{}, fmt.Errorf("set both %s and %s, or neither", EnvScheduleTargetARN, EnvScheduleRoleARN)
	}
	if c.ScheduleDeadLetterARN != "" && c.ScheduleTargetARN == "" {
		return AWS{}, fmt.Errorf("%s is for schedules: set it only with %s and %s",
			EnvScheduleDeadLetterARN, EnvScheduleTargetARN, EnvScheduleRoleARN)
	}
	if c.SESEndpoint != "" && c.Endpoint == "" {
		return AWS{}, fmt.Errorf("%s is for an emulator: set it only with %s", EnvSESEndpoint, EnvAWSEndpoint)
	}
	if c.Table == "" {
		return AWS{}, fmt.Errorf("%s is required", EnvTable)
	}
	if c.ArtifactBucket == "" {
		return AWS{}, fmt.Errorf("%s is required", EnvArtifactBucket)
	}
	return c, nil
}

func get(lookup Lookup, name, def string) string {
	if v, ok := lookup(name); ok && v != "" {
		return v
	}
	return def
}
