package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Deployment targets selected with `-c target=...`.
const (
	TargetAWS      = "aws"
	TargetEmulator = "emulator"
)

// Lambda architectures, as CDK context names them (`-c arch=...`), and the dist/<dir> that
// scripts/build-lambdas.sh writes for each (it uses Go's GOARCH names).
const (
	ArchARM64 = "arm64"
	ArchX8664 = "x86_64"
)

var distArchDir = map[string]string{ArchARM64: "arm64", ArchX8664: "amd64"}

// Context keys read by main. Everything else in the app takes props, never context.
const (
	ctxTarget         = "target"
	ctxStackName      = "stackName"
	ctxAccount        = "account"
	ctxRegion         = "region"
	ctxArch           = "arch"
	ctxTableName      = "tableName"
	ctxBucketName     = "artifactBucketName"
	ctxObjectLockDays = "objectLockDays"
	ctxLogRetention   = "logRetentionDays"
	ctxSenderIdentity = "senderIdentity"
	ctxAWSEndpoint    = "awsEndpoint"
	ctxSESEndpoint    = "sesEndpoint"
	ctxDistDir        = "distDir"
	emulatorAccount   = "000000000000"
	emulatorRegion    = "us-east-1"
	defaultEndpoint   = "http://127.0.0.1:4566"
	// defaultMailEndpoint is the mail moto of scripts/emulators.sh: MiniStack's SES v2 keeps
	// no attachment of a raw message (localstack/README.md, "SES through the mail moto").
	defaultMailEndpoint = "http://127.0.0.1:5056"
	// emulatorSender is the emulator target's SES sender identity (verified after deploy).
	emulatorSender     = "reports@aispm.test"
	defaultStackName   = "AispmReports"
	emulatorStackName  = "AispmReportsEmulator"
	defaultTableName   = "aispm-reports"
	defaultLockDays    = 365
	defaultLogDays     = 90
	defaultDistDirPath = "../dist"
)

// Config is the whole deployment configuration of one stack.
type Config struct {
	Target    string
	StackName string
	// Account and Region pin the stack's environment; empty leaves it environment-agnostic.
	Account, Region string
	Arch            string // ArchARM64 or ArchX8664
	TableName       string
	// ArtifactBucketName is optional: empty lets CloudFormation name the bucket.
	ArtifactBucketName string
	// ObjectLockDays is the artifact bucket's default COMPLIANCE retention. Writers that know
	// a record's retention class (ingest, render) set a longer one per object.
	ObjectLockDays   int
	LogRetentionDays int
	// SenderIdentity is the SES identity (address or domain) the functions that mail send
	// from: they get AISPM_SES_ENABLED and ses:SendEmail/SendRawEmail on its ARN only.
	// Empty disables mail. The stack records it as an output.
	SenderIdentity string
	// SESEndpoint points the functions' SES client alone at another emulator
	// (AISPM_SES_ENDPOINT). Emulator target only; empty in AWS.
	SESEndpoint string
	// AWSEndpoint points the functions' SDK clients at an emulator (AISPM_AWS_ENDPOINT).
	// Empty in AWS.
	AWSEndpoint string
	// DistDir holds <arch>/<function>.zip from scripts/build-lambdas.sh, relative to infra/.
	DistDir string
}

// AWSConfig is the configuration for real AWS with the defaults filled in.
func AWSConfig() Config {
	return Config{
		Target: TargetAWS, StackName: defaultStackName, Arch: ArchARM64, TableName: defaultTableName,
		ObjectLockDays: defaultLockDays, LogRetentionDays: defaultLogDays, DistDir: defaultDistDirPath,
	}
}

// EmulatorConfig is the configuration for MiniStack or LocalStack on this host: the
// emulator runs the bootstraps as local processes, so they are built for the host (x86_64)
// and reach the emulator at endpoint.
func EmulatorConfig(endpoint string) Config {
	c := AWSConfig()
	c.Target = TargetEmulator
	c.StackName = emulatorStackName
	c.Account, c.Region = emulatorAccount, emulatorRegion
	c.Arch = ArchX8664
	c.AWSEndpoint = endpoint
	c.SenderIdentity = emulatorSender
	c.SESEndpoint = defaultMailEndpoint
	return c
}

// ConfigFromContext reads the CDK context (`-c key=value` or cdk.json) into a Config.
func ConfigFromContext(get func(key string) (string, bool)) (Config, error) {
	target, _ := get(ctxTarget)
	var c Config
	switch target {
	case "", TargetAWS:
		c = AWSConfig()
	case TargetEmulator:
		c = EmulatorConfig(defaultEndpoint)
	default:
		return Config{}, fmt.Errorf("context %s: want %q or %q, got %q", ctxTarget, TargetAWS, TargetEmulator, target)
	}
	for key, dst := range map[string]*string{
		ctxStackName: &c.StackName, ctxAccount: &c.Account, ctxRegion: &c.Region, ctxArch: &c.Arch,
		ctxTableName: &c.TableName, ctxBucketName: &c.ArtifactBucketName, ctxSenderIdentity: &c.SenderIdentity,
		ctxDistDir: &c.DistDir, ctxAWSEndpoint: &c.AWSEndpoint, ctxSESEndpoint: &c.SESEndpoint,
	} {
		if v, ok := get(key); ok {
			*dst = v
		}
	}
	for key, dst := range map[string]*int{ctxObjectLockDays: &c.ObjectLockDays, ctxLogRetention: &c.LogRetentionDays} {
		if v, ok := get(key); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return Config{}, fmt.Errorf("context %s: %q is not a whole number of days", key, v)
			}
			*dst = n
		}
	}
	return c, c.Validate()
}

var (
	stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	tableNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	bucketPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	identityPattern  = regexp.MustCompile(`^([^@\s]+@)?[a-z0-9-]+(\.[a-z0-9-]+)+$`)
)

// Validate refuses a configuration that would synthesize a broken or unsafe stack.
func (c Config) Validate() error {
	switch {
	case !stackNamePattern.MatchString(c.StackName):
		return fmt.Errorf("stack name %q is not a valid CloudFormation stack name", c.StackName)
	case c.Account != "" && !accountPattern.MatchString(c.Account):
		return fmt.Errorf("account %q: want 12 digits", c.Account)
	case c.Region != "" && !regionPattern.MatchString(c.Region):
		return fmt.Errorf("region %q is not an AWS region name", c.Region)
	case distArchDir[c.Arch] == "":
		return fmt.Errorf("arch %q: want %q (AWS) or %q (emulator on an x86_64 host)", c.Arch, ArchARM64, ArchX8664)
	case !tableNamePattern.MatchString(c.TableName):
		return fmt.Errorf("table name %q is not a valid DynamoDB table name", c.TableName)
	case c.ArtifactBucketName != "" && !bucketPattern.MatchString(c.ArtifactBucketName):
		return fmt.Errorf("bucket name %q is not a valid S3 bucket name", c.ArtifactBucketName)
	case c.ObjectLockDays < 1 || c.ObjectLockDays > 36500:
		return fmt.Errorf("object lock days %d: want 1..36500", c.ObjectLockDays)
	case c.SenderIdentity != "" && !identityPattern.MatchString(c.SenderIdentity):
		return fmt.Errorf("sender identity %q: want an email address or a domain", c.SenderIdentity)
	case c.DistDir == "":
		return fmt.Errorf("dist dir is empty")
	}
	if _, err := logRetention(c.LogRetentionDays); err != nil {
		return err
	}
	for what, ep := range map[string]string{"aws endpoint": c.AWSEndpoint, "ses endpoint": c.SESEndpoint} {
		if ep == "" {
			continue
		}
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: want an http(s) URL", what, ep)
		}
		if c.Target == TargetAWS {
			return fmt.Errorf("%s %q is for the emulator target only", what, ep)
		}
	}
	return nil
}

var retentionDays = map[int]awslogs.RetentionDays{
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	90: awslogs.RetentionDays_THREE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	731: awslogs.RetentionDays_TWO_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}

func logRetention(days int) (awslogs.RetentionDays, error) {
	r, ok := retentionDays[days]
	if !ok {
		return "", fmt.Errorf("log retention %d days: want one of 7, 14, 30, 90, 180, 365, 731, 1827, 3653", days)
	}
	return r, nil
}
