// Package stackcheck reads a deployed stack back through the service APIs and compares the
// settings that matter with the synthesized template: an emulator (or a CloudFormation
// quirk) may accept a property and silently not apply it. It also holds the one repair an
// emulator needs after deploy (Object Lock configuration, see localstack/README.md).
package stackcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
)

// Expect is what the template asks for.
type Expect struct {
	TableName, BucketName, APIID string
	// KMSKeyArn is the artifact bucket's key (output ArtifactKeyArn).
	KMSKeyArn                string
	StreamViewType           string
	PITR, DeletionProtection bool
	TTLAttribute             string
	GSIs                     []string
	LockMode                 string
	LockDays                 int32
	Versioned                bool
	BlockPublicAccess        bool
	KMSEncrypted             bool
	TLSOnly                  bool
	// RouteKeys are "METHOD /path" of every route; every route must use the authorizer.
	RouteKeys []string
	// Authorizer settings.
	AuthorizerSimpleResponses bool
	AuthorizerIdentitySource  []string
	AuthorizerTTL             int32
	// Functions by logical ID: runtime, handler, architecture.
	Runtime, Handler, Architecture string
	Functions                      int
	// StreamConsumer is the table stream's event source mapping (output
	// AuditWriterFunctionName names its function); nil when the template has none.
	StreamConsumer *StreamMapping
	// Schedules are the template's EventBridge Scheduler schedules (default group).
	Schedules []Schedule
	// ApprovalGate is the Step Functions approval gate (outputs ApprovalStateMachineArn and
	// ApprovalActivityArn); nil when the template has no state machine.
	ApprovalGate *ApprovalGate
}

// ApprovalGate is the state machine that must run sfngate.Definition on the activity.
type ApprovalGate struct {
	StateMachineArn, ActivityArn, Type string
}

// StreamMapping is what an event source mapping on the table stream must be.
type StreamMapping struct {
	Function              string
	FunctionResponseTypes []string
	BatchSize             int32
	StartingPosition      string
	Bisect                bool
	MaxRetries            int32
	// OnFailure is the ARN of the queue that describes the batches the consumer never took
	// (output AuditFailureQueueArn); "" when the template sets none.
	OnFailure string
}

// Schedule is what an EventBridge Scheduler schedule must be.
type Schedule struct {
	Name, Expression, State string
}

// Outputs are a stack's CloudFormation outputs (cdk deploy --outputs-file).
type Outputs map[string]string

// ReadOutputs reads one stack's outputs from a `cdk deploy --outputs-file` file.
func ReadOutputs(path, stack string) (Outputs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var all map[string]Outputs
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out, ok := all[stack]
	if !ok {
		return nil, fmt.Errorf("%s has no outputs of stack %s", path, stack)
	}
	return out, nil
}

type object = map[string]any

// ExpectFromTemplate derives the expectations from a synthesized template and the deployed
// stack's outputs (ApiId, TableName, ArtifactBucketName).
func ExpectFromTemplate(templatePath string, out Outputs) (Expect, error) {
	b, err := os.ReadFile(templatePath)
	if err != nil {
		return Expect{}, err
	}
	var tpl struct{ Resources map[string]object }
	if err := json.Unmarshal(b, &tpl); err != nil {
		return Expect{}, fmt.Errorf("%s: %w", templatePath, err)
	}
	e := Expect{TableName: out["TableName"], BucketName: out["ArtifactBucketName"], APIID: out["ApiId"], KMSKeyArn: out["ArtifactKeyArn"]}
	if e.TableName == "" || e.BucketName == "" || e.APIID == "" {
		return Expect{}, fmt.Errorf("outputs lack TableName, ArtifactBucketName or ApiId: %v", out)
	}
	for _, r := range tpl.Resources {
		p, _ := r["Properties"].(object)
		switch r["Type"] {
		case "AWS::DynamoDB::Table":
			e.StreamViewType = str(p, "StreamSpecification", "StreamViewType")
			e.PITR = p["PointInTimeRecoverySpecification"] != nil && get(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") == true
			e.DeletionProtection = p["DeletionProtectionEnabled"] == true
			if get(p, "TimeToLiveSpecification", "Enabled") == true {
				e.TTLAttribute = str(p, "TimeToLiveSpecification", "AttributeName")
			}
			gsis, _ := p["GlobalSecondaryIndexes"].([]any)
			for _, g := range gsis {
				e.GSIs = append(e.GSIs, str(g.(object), "IndexName"))
			}
		case "AWS::S3::Bucket":
			e.LockMode = str(p, "ObjectLockConfiguration", "Rule", "DefaultRetention", "Mode")
			days, _ := get(p, "ObjectLockConfiguration", "Rule", "DefaultRetention", "Days").(float64)
			e.LockDays = int32(days)
			e.Versioned = str(p, "VersioningConfiguration", "Status") == "Enabled"
			e.BlockPublicAccess = get(p, "PublicAccessBlockConfiguration", "BlockPublicAcls") == true
			sse, _ := get(p, "BucketEncryption", "ServerSideEncryptionConfiguration").([]any)
			e.KMSEncrypted = len(sse) > 0 && str(sse[0].(object), "ServerSideEncryptionByDefault", "SSEAlgorithm") == "aws:kms"
		case "AWS::S3::BucketPolicy":
			e.TLSOnly = e.TLSOnly || strings.Contains(fmt.Sprint(p["PolicyDocument"]), "aws:SecureTransport")
		case "AWS::ApiGatewayV2::Route":
			e.RouteKeys = append(e.RouteKeys, str(p, "RouteKey"))
		case "AWS::ApiGatewayV2::Authorizer":
			e.AuthorizerSimpleResponses = p["EnableSimpleResponses"] == true
			ids, _ := p["IdentitySource"].([]any)
			for _, id := range ids {
				e.AuthorizerIdentitySource = append(e.AuthorizerIdentitySource, fmt.Sprint(id))
			}
			ttl, _ := p["AuthorizerResultTtlInSeconds"].(float64)
			e.AuthorizerTTL = int32(ttl)
		case "AWS::Lambda::EventSourceMapping":
			m := &StreamMapping{Function: out["AuditWriterFunctionName"], StartingPosition: str(p, "StartingPosition"),
				Bisect: p["BisectBatchOnFunctionError"] == true}
			types, _ := p["FunctionResponseTypes"].([]any)
			for _, t := range types {
				m.FunctionResponseTypes = append(m.FunctionResponseTypes, fmt.Sprint(t))
			}
			n, _ := p["BatchSize"].(float64)
			r, _ := p["MaximumRetryAttempts"].(float64)
			m.BatchSize, m.MaxRetries = int32(n), int32(r)
			if get(p, "DestinationConfig", "OnFailure", "Destination") != nil {
				m.OnFailure = out["AuditFailureQueueArn"]
			}
			e.StreamConsumer = m
		case "AWS::StepFunctions::StateMachine":
			e.ApprovalGate = &ApprovalGate{StateMachineArn: out["ApprovalStateMachineArn"], ActivityArn: out["ApprovalActivityArn"],
				Type: str(p, "StateMachineType")}
		case "AWS::Scheduler::Schedule":
			e.Schedules = append(e.Schedules, Schedule{Name: str(p, "Name"), Expression: str(p, "ScheduleExpression"), State: str(p, "State")})
		case "AWS::Lambda::Function":
			e.Functions++
			e.Runtime, e.Handler = str(p, "Runtime"), str(p, "Handler")
			archs, _ := p["Architectures"].([]any)
			if len(archs) == 1 {
				e.Architecture = fmt.Sprint(archs[0])
			}
		}
	}
	slices.Sort(e.RouteKeys)
	return e, nil
}

func get(m object, path ...string) any {
	var cur any = m
	for _, k := range path {
		o, ok := cur.(object)
		if !ok {
			return nil
		}
		cur = o[k]
	}
	return cur
}

func str(m object, path ...string) string {
	s, _ := get(m, path...).(string)
	return s
}

// Clients are the service clients the check reads through.
type Clients struct {
	DynamoDB  *dynamodb.Client
	S3        *s3.Client
	APIGW     *apigatewayv2.Client
	Lambda    *lambda.Client
	Scheduler *scheduler.Client
	SFN       *sfn.Client
}

// Report lists what was checked and what is wrong.
type Report struct {
	OK       []string
	Problems []string
}

func (r *Report) check(ok bool, what string, got any) {
	if ok {
		r.OK = append(r.OK, what)
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf("%s: got %v", what, got))
}

func (r *Report) fail(what string, err error) {
	r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", what, err))
}

// Err returns an error listing every problem, or nil.
func (r Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return errors.New("deployed stack differs from its template:\n  " + strings.Join(r.Problems, "\n  "))
}

// Check reads the deployed resources back and compares them with e.
func Check(ctx context.Context, c Clients, e Expect) Report {
	var r Report
	checkTable(ctx, c.DynamoDB, e, &r)
	checkBucket(ctx, c.S3, e, &r)
	checkAPI(ctx, c, e, &r)
	checkStreamConsumer(ctx, c.Lambda, e, &r)
	checkSchedules(ctx, c.Scheduler, e, &r)
	checkApprovalGate(ctx, c.SFN, e, &r)
	return r
}

// checkApprovalGate reads the gate back: the activity exists and the machine runs
// sfngate.Definition on it.
func checkApprovalGate(ctx context.Context, c *sfn.Client, e Expect, r *Report) {
	g := e.ApprovalGate
	if g == nil {
		return
	}
	if g.StateMachineArn == "" || g.ActivityArn == "" {
		r.check(false, "approval gate named by outputs ApprovalStateMachineArn and ApprovalActivityArn", "no such outputs")
		return
	}
	if _, err := c.DescribeActivity(ctx, &sfn.DescribeActivityInput{ActivityArn: aws.String(g.ActivityArn)}); err != nil {
		r.fail("approval activity "+g.ActivityArn, err)
	} else {
		r.check(true, "approval activity "+g.ActivityArn, "")
	}
	sm, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(g.StateMachineArn)})
	if err != nil {
		r.fail("approval state machine "+g.StateMachineArn, err)
		return
	}
	var got, want any
	_ = json.Unmarshal([]byte(aws.ToString(sm.Definition)), &got)
	_ = json.Unmarshal([]byte(sfngate.Definition(g.ActivityArn)), &want)
	r.check(got != nil && fmt.Sprint(got) == fmt.Sprint(want), "approval state machine runs sfngate.Definition on "+g.ActivityArn, aws.ToString(sm.Definition))
	r.check(g.Type == "" || string(sm.Type) == g.Type, "approval state machine type "+g.Type, string(sm.Type))
}

func checkStreamConsumer(ctx context.Context, c *lambda.Client, e Expect, r *Report) {
	want := e.StreamConsumer
	if want == nil {
		return
	}
	if want.Function == "" {
		r.check(false, "stream consumer named by output AuditWriterFunctionName", "no such output")
		return
	}
	out, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(want.Function)})
	if err != nil {
		r.fail("stream consumer "+want.Function, err)
		return
	}
	if len(out.EventSourceMappings) != 1 {
		r.check(false, "one event source mapping of "+want.Function, len(out.EventSourceMappings))
		return
	}
	m := out.EventSourceMappings[0]
	var types []string
	for _, t := range m.FunctionResponseTypes {
		types = append(types, string(t))
	}
	got := StreamMapping{Function: want.Function, FunctionResponseTypes: types, BatchSize: aws.ToInt32(m.BatchSize),
		StartingPosition: string(m.StartingPosition), Bisect: aws.ToBool(m.BisectBatchOnFunctionError), MaxRetries: aws.ToInt32(m.MaximumRetryAttempts)}
	if d := m.DestinationConfig; d != nil && d.OnFailure != nil {
		got.OnFailure = aws.ToString(d.OnFailure.Destination)
	}
	r.check(fmt.Sprint(got) == fmt.Sprint(*want), fmt.Sprintf("stream mapping %+v", *want), fmt.Sprintf("%+v", got))
	r.check(strings.Contains(aws.ToString(m.EventSourceArn), ":table/"+e.TableName+"/stream/"), "stream mapping on the table's stream", aws.ToString(m.EventSourceArn))
}

func checkSchedules(ctx context.Context, c *scheduler.Client, e Expect, r *Report) {
	for _, want := range e.Schedules {
		out, err := c.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(want.Name)})
		if err != nil {
			r.fail("schedule "+want.Name, err)
			continue
		}
		got := Schedule{Name: want.Name, Expression: aws.ToString(out.ScheduleExpression), State: string(out.State)}
		r.check(got == want && out.Target != nil && aws.ToString(out.Target.Arn) != "" && aws.ToString(out.Target.RoleArn) != "",
			fmt.Sprintf("schedule %s %s %s with a target and role", want.Name, want.Expression, want.State), fmt.Sprintf("%+v %+v", got, out.Target))
	}
}

func checkTable(ctx context.Context, ddb *dynamodb.Client, e Expect, r *Report) {
	t, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.TableName)})
	if err != nil {
		r.fail("table "+e.TableName, err)
		return
	}
	d := t.Table
	var view string
	if d.StreamSpecification != nil && aws.ToBool(d.StreamSpecification.StreamEnabled) {
		view = string(d.StreamSpecification.StreamViewType)
	}
	r.check(view == e.StreamViewType && d.LatestStreamArn != nil, "table stream view type "+e.StreamViewType, view)
	var gsis []string
	for _, g := range d.GlobalSecondaryIndexes {
		gsis = append(gsis, aws.ToString(g.IndexName))
	}
	slices.Sort(gsis)
	want := slices.Sorted(slices.Values(e.GSIs))
	r.check(slices.Equal(gsis, want), fmt.Sprintf("table GSIs %v", want), gsis)
	r.check(aws.ToBool(d.DeletionProtectionEnabled) == e.DeletionProtection,
		fmt.Sprintf("table deletion protection %v", e.DeletionProtection), aws.ToBool(d.DeletionProtectionEnabled))

	b, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(e.TableName)})
	if err != nil {
		r.fail("table point-in-time recovery", err)
	} else {
		var pitr string
		if b.ContinuousBackupsDescription != nil && b.ContinuousBackupsDescription.PointInTimeRecoveryDescription != nil {
			pitr = string(b.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
		}
		r.check((pitr == "ENABLED") == e.PITR, fmt.Sprintf("table point-in-time recovery %v", e.PITR), pitr)
	}

	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(e.TableName)})
	if err != nil {
		r.fail("table TTL", err)
	} else {
		var attr, status string
		if d := ttl.TimeToLiveDescription; d != nil {
			attr, status = aws.ToString(d.AttributeName), string(d.TimeToLiveStatus)
		}
		r.check(attr == e.TTLAttribute && status == "ENABLED", "table TTL on "+e.TTLAttribute, attr+" "+status)
	}
}

// ObjectLock reads the bucket's Object Lock configuration: enabled, default mode and days.
func ObjectLock(ctx context.Context, c *s3.Client, bucket string) (enabled bool, mode string, days int32, err error) {
	out, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return false, "", 0, err
	}
	cfg := out.ObjectLockConfiguration
	if cfg == nil {
		return false, "", 0, nil
	}
	enabled = cfg.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled
	if cfg.Rule != nil && cfg.Rule.DefaultRetention != nil {
		mode, days = string(cfg.Rule.DefaultRetention.Mode), aws.ToInt32(cfg.Rule.DefaultRetention.Days)
	}
	return enabled, mode, days, nil
}

// Workarounds for settings MiniStack's CloudFormation (1.5.33) accepts in a template but
// does not apply (localstack/README.md lists them). Each one reads the deployed setting
// first and puts the template's value only when it is missing; none weakens a setting
// that is there, so a wrong value is still left for Check to report.

// ApplyEmulatorWorkarounds restores every known-dropped setting and says which it restored.
func ApplyEmulatorWorkarounds(ctx context.Context, c Clients, e Expect) ([]string, error) {
	var applied []string
	for _, w := range []struct {
		name string
		fn   func(context.Context, Clients, Expect) (bool, error)
	}{
		{fmt.Sprintf("bucket Object Lock default retention %s %d days (PutObjectLockConfiguration)", e.LockMode, e.LockDays), restoreObjectLock},
		{"bucket default encryption with the stack's KMS key (PutBucketEncryption)", restoreBucketKMS},
		{"table point-in-time recovery (UpdateContinuousBackups)", restorePITR},
		{"table TTL on " + e.TTLAttribute + " (UpdateTimeToLive)", restoreTTL},
	} {
		done, err := w.fn(ctx, c, e)
		if err != nil {
			return applied, fmt.Errorf("workaround %s: %w", w.name, err)
		}
		if done {
			applied = append(applied, w.name)
		}
	}
	return applied, nil
}

func restoreObjectLock(ctx context.Context, c Clients, e Expect) (bool, error) {
	if e.LockMode == "" {
		return false, nil
	}
	enabled, mode, _, err := ObjectLock(ctx, c.S3, e.BucketName)
	if err != nil && !strings.Contains(err.Error(), "ObjectLockConfigurationNotFound") {
		return false, err
	}
	if enabled && mode != "" {
		return false, nil
	}
	_, err = c.S3.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(e.BucketName),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
			ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{
				Mode: s3types.ObjectLockRetentionMode(e.LockMode), Days: aws.Int32(e.LockDays),
			}},
		},
	})
	return err == nil, err
}

func restoreBucketKMS(ctx context.Context, c Clients, e Expect) (bool, error) {
	if !e.KMSEncrypted {
		return false, nil
	}
	if e.KMSKeyArn == "" {
		return false, errors.New("no ArtifactKeyArn output to encrypt with")
	}
	enc, err := c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(e.BucketName)})
	if err == nil && enc.ServerSideEncryptionConfiguration != nil {
		for _, r := range enc.ServerSideEncryptionConfiguration.Rules {
			if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm == s3types.ServerSideEncryptionAwsKms {
				return false, nil
			}
		}
	}
	_, err = c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(e.BucketName),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
				SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(e.KMSKeyArn),
			},
			BucketKeyEnabled: aws.Bool(true),
		}}},
	})
	return err == nil, err
}

func restorePITR(ctx context.Context, c Clients, e Expect) (bool, error) {
	if !e.PITR {
		return false, nil
	}
	b, err := c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(e.TableName)})
	if err != nil {
		return false, err
	}
	if d := b.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil &&
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == ddbtypes.PointInTimeRecoveryStatusEnabled {
		return false, nil
	}
	_, err = c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String(e.TableName),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
	})
	return err == nil, err
}

func restoreTTL(ctx context.Context, c Clients, e Expect) (bool, error) {
	if e.TTLAttribute == "" {
		return false, nil
	}
	t, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(e.TableName)})
	if err != nil {
		return false, err
	}
	if d := t.TimeToLiveDescription; d != nil && d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusDisabled {
		return false, nil // enabled, or on its way: a different attribute is Check's to report
	}
	_, err = c.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(e.TableName),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(e.TTLAttribute), Enabled: aws.Bool(true)},
	})
	return err == nil, err
}

func checkBucket(ctx context.Context, c *s3.Client, e Expect, r *Report) {
	b := aws.String(e.BucketName)
	enabled, mode, days, err := ObjectLock(ctx, c, e.BucketName)
	if err != nil {
		r.fail("bucket object lock", err)
	} else {
		r.check(enabled && mode == e.LockMode && days == e.LockDays,
			fmt.Sprintf("bucket object lock default %s %d days", e.LockMode, e.LockDays), fmt.Sprintf("enabled=%v %s %d", enabled, mode, days))
	}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil {
		r.fail("bucket versioning", err)
	} else {
		r.check((v.Status == s3types.BucketVersioningStatusEnabled) == e.Versioned, "bucket versioning", v.Status)
	}
	if e.BlockPublicAccess {
		p, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		if err != nil {
			r.fail("bucket public access block", err)
		} else {
			pc := p.PublicAccessBlockConfiguration
			r.check(pc != nil && aws.ToBool(pc.BlockPublicAcls) && aws.ToBool(pc.BlockPublicPolicy) &&
				aws.ToBool(pc.IgnorePublicAcls) && aws.ToBool(pc.RestrictPublicBuckets), "bucket public access block", pc)
		}
	}
	if e.KMSEncrypted {
		enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
		if err != nil {
			r.fail("bucket KMS encryption", err)
		} else {
			var algo, key string
			if sc := enc.ServerSideEncryptionConfiguration; sc != nil && len(sc.Rules) > 0 && sc.Rules[0].ApplyServerSideEncryptionByDefault != nil {
				algo = string(sc.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)
				key = aws.ToString(sc.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID)
			}
			r.check(algo == "aws:kms" && (e.KMSKeyArn == "" || key == e.KMSKeyArn), "bucket KMS encryption with the stack's key", algo+" "+key)
		}
	}
	if e.TLSOnly {
		p, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
		if err != nil {
			r.fail("bucket TLS-only policy", err)
		} else {
			r.check(strings.Contains(aws.ToString(p.Policy), "aws:SecureTransport"), "bucket TLS-only policy", aws.ToString(p.Policy))
		}
	}
}

func checkAPI(ctx context.Context, c Clients, e Expect, r *Report) {
	auths, err := c.APIGW.GetAuthorizers(ctx, &apigatewayv2.GetAuthorizersInput{ApiId: aws.String(e.APIID)})
	if err != nil {
		r.fail("API authorizers", err)
		return
	}
	if len(auths.Items) != 1 {
		r.check(false, "one API authorizer", len(auths.Items))
		return
	}
	a := auths.Items[0]
	r.check(string(a.AuthorizerType) == "REQUEST" && aws.ToBool(a.EnableSimpleResponses) == e.AuthorizerSimpleResponses,
		"authorizer REQUEST with simple responses", fmt.Sprintf("%s simple=%v", a.AuthorizerType, aws.ToBool(a.EnableSimpleResponses)))
	r.check(slices.Equal(a.IdentitySource, e.AuthorizerIdentitySource), fmt.Sprintf("authorizer identity source %v", e.AuthorizerIdentitySource), a.IdentitySource)
	r.check(aws.ToInt32(a.AuthorizerResultTtlInSeconds) == e.AuthorizerTTL, fmt.Sprintf("authorizer cache TTL %d", e.AuthorizerTTL), aws.ToInt32(a.AuthorizerResultTtlInSeconds))

	var routes []apigwtypes.Route
	uris := map[string]string{}
	for next := (*string)(nil); ; {
		page, err := c.APIGW.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(e.APIID), NextToken: next})
		if err != nil {
			r.fail("API routes", err)
			return
		}
		routes = append(routes, page.Items...)
		if next = page.NextToken; aws.ToString(next) == "" {
			break
		}
	}
	for next := (*string)(nil); ; {
		page, err := c.APIGW.GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: aws.String(e.APIID), NextToken: next})
		if err != nil {
			r.fail("API integrations", err)
			return
		}
		for _, i := range page.Items {
			uris[aws.ToString(i.IntegrationId)] = aws.ToString(i.IntegrationUri)
		}
		if next = page.NextToken; aws.ToString(next) == "" {
			break
		}
	}
	var keys []string
	for _, rt := range routes {
		key := aws.ToString(rt.RouteKey)
		keys = append(keys, key)
		r.check(rt.AuthorizationType == "CUSTOM" && aws.ToString(rt.AuthorizerId) == aws.ToString(a.AuthorizerId),
			"route "+key+" uses the authorizer", fmt.Sprintf("%s %s", rt.AuthorizationType, aws.ToString(rt.AuthorizerId)))
		uri := uris[strings.TrimPrefix(aws.ToString(rt.Target), "integrations/")]
		checkFunction(ctx, c.Lambda, "route "+key, uri, e, r)
	}
	slices.Sort(keys)
	r.check(slices.Equal(keys, e.RouteKeys), fmt.Sprintf("API routes %v", e.RouteKeys), keys)
	checkFunction(ctx, c.Lambda, "authorizer", aws.ToString(a.AuthorizerUri), e, r)
}

// checkFunction checks the function an integration or authorizer URI invokes.
func checkFunction(ctx context.Context, c *lambda.Client, what, uri string, e Expect, r *Report) {
	arn := functionARN(uri)
	if arn == "" {
		r.check(false, what+" invokes a Lambda function", uri)
		return
	}
	f, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(arn)})
	if err != nil {
		r.fail(what+" function", err)
		return
	}
	var archs []string
	for _, a := range f.Architectures {
		archs = append(archs, string(a))
	}
	r.check(string(f.Runtime) == e.Runtime && aws.ToString(f.Handler) == e.Handler && slices.Equal(archs, []string{e.Architecture}),
		fmt.Sprintf("%s function %s/%s/%s", what, e.Runtime, e.Handler, e.Architecture), fmt.Sprintf("%s/%s/%v", f.Runtime, aws.ToString(f.Handler), archs))
}

// functionARN extracts the function ARN from an integration URI, which is either the ARN or
// "arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations".
func functionARN(uri string) string {
	if strings.HasPrefix(uri, "arn:aws:lambda:") {
		return uri
	}
	_, rest, ok := strings.Cut(uri, "/functions/")
	if !ok {
		return ""
	}
	arn, _, _ := strings.Cut(rest, "/invocations")
	return arn
}
