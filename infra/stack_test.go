package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/infra/stackcheck"
	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// One synth for the whole run (it takes seconds): both targets live in one app, synthesized
// once in TestMain. With AISPM_CDK_OUT set, the cloud assembly is written there and
// scripts/emulator-deploy.sh deploys the emulator stack from it, so `make test` synthesizes
// once.
var (
	awsCfg, emuCfg = prodLikeConfig(), emulatorConfig()
	templates      = map[string]map[string]any{} // by target
	tmpl           = map[string]assertions.Template{}
)

// emulatorEndpoint is the MiniStack the deploy will use (scripts/emulators.sh prints it), so
// the assembly reused by scripts/emulator-deploy.sh points its functions at that emulator.
func emulatorEndpoint() string {
	if ep := os.Getenv("AISPM_MINISTACK_ENDPOINT"); ep != "" {
		return ep
	}
	return defaultEndpoint
}

// emulatorConfig is the emulator target with the mail moto scripts/emulators.sh prints.
func emulatorConfig() Config {
	c := EmulatorConfig(emulatorEndpoint())
	if ep := os.Getenv("AISPM_MOTO_MAIL_ENDPOINT"); ep != "" {
		c.SESEndpoint = ep
	}
	return c
}

func prodLikeConfig() Config {
	c := AWSConfig()
	c.Account, c.Region, c.SenderIdentity = "123456789012", "eu-central-1", "reports@example.com"
	return c
}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer jsii.Close()
		out := os.Getenv("AISPM_CDK_OUT")
		if out == "" {
			dir, err := os.MkdirTemp("", "cdk.out-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			out = dir
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
		stacks := map[string]*Stack{}
		for _, cfg := range []Config{awsCfg, emuCfg} {
			st, err := NewStack(app, cfg)
			if err != nil {
				fmt.Fprintln(os.Stderr, "infra tests:", err)
				return 1
			}
			stacks[cfg.Target] = st
		}
		app.Synth(nil) // the only synth: Template_FromStack reuses this assembly
		for target, st := range stacks {
			t := assertions.Template_FromStack(st.Stack, nil)
			tmpl[target] = t
			templates[target] = *t.ToJSON()
		}
		return m.Run()
	}())
}

// assert runs a CDK assertion, which reports a mismatch by panicking, as a test error.
func assert(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	fn()
}

type obj = map[string]any

func like(m obj) assertions.Matcher { return assertions.Match_ObjectLike(&m) }
func arrayWith(items ...any) assertions.Matcher {
	return assertions.Match_ArrayWith(&items)
}

func eachTarget(t *testing.T, fn func(t *testing.T, target string, tp assertions.Template)) {
	for _, target := range []string{TargetAWS, TargetEmulator} {
		t.Run(target, func(t *testing.T) { fn(t, target, tmpl[target]) })
	}
}

func resources(target, typ string) map[string]obj {
	out := map[string]obj{}
	for id, r := range templates[target]["Resources"].(obj) {
		if r.(obj)["Type"] == typ {
			out[id] = r.(obj)
		}
	}
	return out
}

func TestArtifactBucketIsWORM(t *testing.T) {
	eachTarget(t, func(t *testing.T, _ string, tp assertions.Template) {
		assert(t, "one bucket", func() { tp.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(1)) })
		assert(t, "object lock with default COMPLIANCE retention", func() {
			tp.HasResourceProperties(jsii.String("AWS::S3::Bucket"), obj{
				"ObjectLockEnabled": true,
				"ObjectLockConfiguration": obj{
					"ObjectLockEnabled": "Enabled",
					"Rule":              obj{"DefaultRetention": obj{"Mode": "COMPLIANCE", "Days": defaultLockDays}},
				},
			})
		})
		assert(t, "versioning", func() {
			tp.HasResourceProperties(jsii.String("AWS::S3::Bucket"), obj{"VersioningConfiguration": obj{"Status": "Enabled"}})
		})
		assert(t, "public access block", func() {
			tp.HasResourceProperties(jsii.String("AWS::S3::Bucket"), obj{"PublicAccessBlockConfiguration": obj{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			}})
		})
		assert(t, "KMS encryption with the stack's key", func() {
			tp.HasResourceProperties(jsii.String("AWS::S3::Bucket"), obj{"BucketEncryption": obj{
				"ServerSideEncryptionConfiguration": arrayWith(obj{
					"BucketKeyEnabled": true,
					"ServerSideEncryptionByDefault": obj{
						"SSEAlgorithm":   "aws:kms",
						"KMSMasterKeyID": obj{"Fn::GetAtt": []any{"ArtifactKey", "Arn"}},
					},
				}),
			}})
		})
		assert(t, "TLS-only bucket policy", func() {
			tp.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), obj{
				"Bucket": obj{"Ref": "ArtifactBucket"},
				"PolicyDocument": like(obj{"Statement": arrayWith(like(obj{
					"Effect":    "Deny",
					"Action":    "s3:*",
					"Principal": obj{"AWS": "*"},
					"Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}},
				}))}),
			})
		})
	})
}

func TestTableSettings(t *testing.T) {
	eachTarget(t, func(t *testing.T, _ string, tp assertions.Template) {
		assert(t, "classic table, not a global table", func() {
			tp.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1))
			tp.ResourceCountIs(jsii.String("AWS::DynamoDB::GlobalTable"), jsii.Number(0))
		})
		assert(t, "table", func() {
			tp.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), obj{
				"TableName": defaultTableName,
				"KeySchema": []any{
					obj{"AttributeName": "pk", "KeyType": "HASH"},
					obj{"AttributeName": "sk", "KeyType": "RANGE"},
				},
				"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
					obj{"AttributeName": "pk", "AttributeType": "S"}, obj{"AttributeName": "sk", "AttributeType": "S"},
					obj{"AttributeName": "gsi1pk", "AttributeType": "S"}, obj{"AttributeName": "gsi1sk", "AttributeType": "S"},
				}),
				"GlobalSecondaryIndexes": []any{obj{
					"IndexName": "gsi1",
					"KeySchema": []any{
						obj{"AttributeName": "gsi1pk", "KeyType": "HASH"},
						obj{"AttributeName": "gsi1sk", "KeyType": "RANGE"},
					},
					"Projection": obj{"ProjectionType": "ALL"},
				}},
				"BillingMode":                      "PAY_PER_REQUEST",
				"StreamSpecification":              obj{"StreamViewType": "NEW_AND_OLD_IMAGES"},
				"PointInTimeRecoverySpecification": obj{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        true,
				"TimeToLiveSpecification":          obj{"AttributeName": "expires_at", "Enabled": true},
			})
		})
	})
}

func TestKeys(t *testing.T) {
	eachTarget(t, func(t *testing.T, _ string, tp assertions.Template) {
		assert(t, "signing key", func() {
			tp.HasResourceProperties(jsii.String("AWS::KMS::Key"), obj{"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"})
		})
		assert(t, "artifact key rotates", func() {
			tp.HasResourceProperties(jsii.String("AWS::KMS::Key"), obj{"EnableKeyRotation": true})
		})
	})
}

// Stateful resources keep fixed logical IDs and survive stack deletion and replacement.
func TestStatefulResourcesAreRetainedUnderStableIDs(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, _ assertions.Template) {
		all := templates[target]["Resources"].(obj)
		for id, typ := range map[string]string{
			"Table": "AWS::DynamoDB::Table", "ArtifactBucket": "AWS::S3::Bucket",
			"ArtifactKey": "AWS::KMS::Key", "SigningKey": "AWS::KMS::Key",
		} {
			r, ok := all[id].(obj)
			if !ok || r["Type"] != typ {
				t.Errorf("no %s under logical ID %s", typ, id)
				continue
			}
			if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v; want Retain", id, r["DeletionPolicy"], r["UpdateReplacePolicy"])
			}
		}
		for id, r := range resources(target, "AWS::Logs::LogGroup") {
			if r["DeletionPolicy"] != "Retain" {
				t.Errorf("log group %s is not retained", id)
			}
		}
	})
}

// functionsByName maps a functions/<name> to its logical ID (the description names it).
func functionsByName(t *testing.T, target string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for id, r := range resources(target, "AWS::Lambda::Function") {
		desc, _ := r["Properties"].(obj)["Description"].(string)
		name, ok := strings.CutPrefix(desc, "AISPM reports: ")
		if !ok {
			t.Fatalf("function %s has no name in its description %q", id, desc)
		}
		out[name] = id
	}
	return out
}

func TestOneAuthorizedRoutePerRouteTableEntry(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, tp assertions.Template) {
		routes := api.Routes()
		assert(t, "one route per route-table entry, one API", func() {
			tp.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(float64(len(routes))))
			tp.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Api"), jsii.Number(1))
		})
		authorizers := resources(target, "AWS::ApiGatewayV2::Authorizer")
		if len(authorizers) != 1 {
			t.Fatalf("%d authorizers, want 1", len(authorizers))
		}
		var authorizerID string
		for id := range authorizers {
			authorizerID = id
		}
		fns := functionsByName(t, target)
		integrations := resources(target, "AWS::ApiGatewayV2::Integration")
		byKey := map[string]obj{}
		for _, r := range resources(target, "AWS::ApiGatewayV2::Route") {
			byKey[r["Properties"].(obj)["RouteKey"].(string)] = r["Properties"].(obj)
		}
		for _, route := range routes {
			key := route.Method + " " + route.Path
			p, ok := byKey[key]
			if !ok {
				t.Errorf("route table entry %s (%s) has no API route", route.Name, key)
				continue
			}
			if p["AuthorizationType"] != "CUSTOM" || fmt.Sprint(p["AuthorizerId"]) != fmt.Sprint(obj{"Ref": authorizerID}) {
				t.Errorf("%s: authorization %v %v, want CUSTOM with %s", key, p["AuthorizationType"], p["AuthorizerId"], authorizerID)
			}
			// Target is "integrations/<Ref integration>"; the integration invokes the route's own function.
			integ := integrationOf(t, p["Target"])
			uri := fmt.Sprint(integrations[integ]["Properties"].(obj)["IntegrationUri"])
			if fns[route.Name] == "" || !strings.Contains(uri, fns[route.Name]) {
				t.Errorf("%s: integration %s calls %s, want function %s", key, integ, uri, route.Name)
			}
		}
		if len(fns) != len(routes)+1+len(triggerAccess) {
			t.Errorf("%d functions, want one per route plus the authorizer and %d triggers: %v", len(fns), len(triggerAccess), fns)
		}
		assert(t, "authorizer: simple responses, Authorization header, no caching", func() {
			tp.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), obj{
				"AuthorizerType":                 "REQUEST",
				"AuthorizerPayloadFormatVersion": "2.0",
				"EnableSimpleResponses":          true,
				"IdentitySource":                 []any{"$request.header.Authorization"},
				"AuthorizerResultTtlInSeconds":   0,
			})
		})
		authURI := fmt.Sprint(authorizers[authorizerID]["Properties"].(obj)["AuthorizerUri"])
		if !strings.Contains(authURI, fns[authorizerName]) {
			t.Errorf("authorizer calls %s, want function %s", authURI, authorizerName)
		}
	})
}

func integrationOf(t *testing.T, target any) string {
	t.Helper()
	join, ok := target.(obj)["Fn::Join"].([]any)
	if !ok || len(join) != 2 {
		t.Fatalf("route target %v", target)
	}
	for _, part := range join[1].([]any) {
		if m, ok := part.(obj); ok && m["Ref"] != nil {
			return fmt.Sprint(m["Ref"])
		}
	}
	t.Fatalf("route target %v names no integration", target)
	return ""
}

func TestFunctions(t *testing.T) {
	wantArch := map[string]string{TargetAWS: "arm64", TargetEmulator: "x86_64"}
	eachTarget(t, func(t *testing.T, target string, _ assertions.Template) {
		fns := resources(target, "AWS::Lambda::Function")
		if len(fns) == 0 {
			t.Fatal("no functions")
		}
		for id, r := range fns {
			p := r["Properties"].(obj)
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
				t.Errorf("%s: runtime %v handler %v", id, p["Runtime"], p["Handler"])
			}
			if fmt.Sprint(p["Architectures"]) != fmt.Sprint([]any{wantArch[target]}) {
				t.Errorf("%s: architectures %v, want [%s]", id, p["Architectures"], wantArch[target])
			}
			vars := p["Environment"].(obj)["Variables"].(obj)
			if fmt.Sprint(vars[config.EnvTable]) != fmt.Sprint(obj{"Ref": "Table"}) ||
				fmt.Sprint(vars[config.EnvArtifactBucket]) != fmt.Sprint(obj{"Ref": "ArtifactBucket"}) {
				t.Errorf("%s: environment %v", id, vars)
			}
			_, hasEndpoint := vars[config.EnvAWSEndpoint]
			if hasEndpoint != (target == TargetEmulator) {
				t.Errorf("%s: %s set=%v on target %s", id, config.EnvAWSEndpoint, hasEndpoint, target)
			}
			logGroup, _ := p["LoggingConfig"].(obj)["LogGroup"].(obj)["Ref"].(string)
			lg := templates[target]["Resources"].(obj)[logGroup]
			if lg == nil || lg.(obj)["Properties"].(obj)["RetentionInDays"] != float64(defaultLogDays) {
				t.Errorf("%s: log group %q without %d days retention", id, logGroup, defaultLogDays)
			}
		}
	})
}

// statements returns every policy statement anywhere in the template (IAM policies, bucket
// policies, key policies, role trust policies...).
func statements(v any, where string, out *[]struct {
	where string
	s     obj
}) {
	switch x := v.(type) {
	case obj:
		if st, ok := x["Statement"].([]any); ok {
			for _, s := range st {
				*out = append(*out, struct {
					where string
					s     obj
				}{where, s.(obj)})
			}
		}
		for k, c := range x {
			statements(c, where+"/"+k, out)
		}
	case []any:
		for i, c := range x {
			statements(c, fmt.Sprintf("%s[%d]", where, i), out)
		}
	}
}

func actions(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, a := range x {
			out = append(out, fmt.Sprint(a))
		}
		return out
	}
	return nil
}

// No Allow statement anywhere grants "*" or a whole service ("s3:*"); the only "s3:*" is the
// TLS-only Deny. (CDK's grant* use prefix patterns such as "s3:GetObject*", which stay
// within one family of actions.)
func TestNoWildcardActions(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, _ assertions.Template) {
		var all []struct {
			where string
			s     obj
		}
		statements(templates[target]["Resources"], "Resources", &all)
		if len(all) < 10 {
			t.Fatalf("found only %d policy statements; the walk is broken", len(all))
		}
		for _, st := range all {
			if _, ok := st.s["NotAction"]; ok && st.s["Effect"] == "Allow" {
				t.Errorf("%s: Allow with NotAction", st.where)
			}
			for _, a := range actions(st.s["Action"]) {
				wild := a == "*" || strings.HasSuffix(a, ":*")
				if wild && st.s["Effect"] != "Deny" {
					t.Errorf("%s: %s statement with action %q", st.where, st.s["Effect"], a)
				}
			}
		}
	})
}

// accessOf is the Access infra/access.go gives functions/<name>.
func accessOf(t *testing.T, name string) Access {
	t.Helper()
	if name == authorizerName {
		return authorizerAccess
	}
	if a, ok := routeAccess[name]; ok {
		return a
	}
	if a, ok := triggerAccess[name]; ok {
		return a
	}
	t.Fatalf("function %s has no access entry", name)
	return Access{}
}

// policyStatements returns the statements of the IAM policies attached to role (a logical ID).
func policyStatements(target, role string) []obj {
	var out []obj
	for _, r := range resources(target, "AWS::IAM::Policy") {
		p := r["Properties"].(obj)
		for _, ref := range p["Roles"].([]any) {
			if ref.(obj)["Ref"] != role {
				continue
			}
			for _, s := range p["PolicyDocument"].(obj)["Statement"].([]any) {
				out = append(out, s.(obj))
			}
		}
	}
	return out
}

// functionRole returns the logical ID of the role of the function with logical ID fn.
func functionRole(target, fn string) string {
	return resources(target, "AWS::Lambda::Function")[fn]["Properties"].(obj)["Role"].(obj)["Fn::GetAtt"].([]any)[0].(string)
}

func functionEnv(target, fn string) obj {
	return resources(target, "AWS::Lambda::Function")[fn]["Properties"].(obj)["Environment"].(obj)["Variables"].(obj)
}

// Each function gets what infra/access.go gives it, and no more.
func TestLeastPrivilege(t *testing.T) {
	target := TargetAWS
	fns := functionsByName(t, target)
	for name, id := range fns {
		var acts []string
		for _, s := range policyStatements(target, functionRole(target, id)) {
			acts = append(acts, actions(s["Action"])...)
		}
		access := accessOf(t, name)
		for _, c := range []struct {
			action string
			want   bool
		}{
			{"dynamodb:PutItem", access.Table == TableReadWrite},
			{"dynamodb:UpdateItem", access.Table == TableReadWrite || access.TouchTokens},
			{"dynamodb:GetItem", access.Table != 0},
			{"dynamodb:DescribeStream", name == auditWriterName}, // the one stream consumer
			{"s3:GetObject*", access.ObjectsRead},
			{"s3:PutObject", access.ObjectsWrite},
			{"s3:PutObjectRetention", access.ObjectsWrite},
			{"s3:DeleteObject*", access.ObjectsDelete},
			{"kms:Sign", access.Sign},
			{"kms:GetPublicKey", access.Sign || access.PublicKey},
			{"scheduler:CreateSchedule", access.Schedules},
			{"scheduler:CreateScheduleGroup", access.Schedules},
			{"iam:PassRole", access.Schedules},
			// The writer's stream failures; schedule dead letters are sent by the scheduler's role.
			{"sqs:SendMessage", name == auditWriterName},
			{"ses:SendEmail", access.Mail},
			{"ses:SendRawEmail", access.Mail},
			{"states:StartExecution", access.Approvals},
			{"states:DescribeExecution", access.Approvals},
			{"states:GetActivityTask", access.Approvals},
			{"states:SendTaskSuccess", access.Approvals},
			{"states:SendTaskFailure", access.Approvals},
		} {
			if got := slices.Contains(acts, c.action); got != c.want {
				t.Errorf("%s: %s granted=%v, access %+v", name, c.action, got, access)
			}
		}
		vars := functionEnv(target, id)
		if _, ok := vars[config.EnvSigningKeyID]; ok != access.usesSigningKey() {
			t.Errorf("%s: %s set=%v, access %+v", name, config.EnvSigningKeyID, ok, access)
		}
		for env, want := range map[string]bool{
			config.EnvScheduleTargetARN: access.Schedules, config.EnvScheduleRoleARN: access.Schedules,
			config.EnvScheduleDeadLetterARN:   access.Schedules,
			config.EnvSESEnabled:              access.Mail,
			config.EnvApprovalStateMachineARN: access.Approvals, config.EnvApprovalActivityARN: access.Approvals,
			config.EnvSESEndpoint: false, // emulator only
		} {
			if _, ok := vars[env]; ok != want {
				t.Errorf("%s: %s set=%v, access %+v", name, env, ok, access)
			}
		}
		for _, a := range acts {
			if strings.HasPrefix(a, "s3:BypassGovernance") || strings.HasPrefix(a, "s3:PutBucket") || strings.HasPrefix(a, "s3:DeleteBucket") {
				t.Errorf("%s may %s on the WORM bucket", name, a)
			}
		}
	}
}

// The authorizer records a token's last use and may write nothing else: its one write
// action is limited to the token partitions.
func TestAuthorizerWritesTokenRecordsOnly(t *testing.T) {
	target := TargetAWS
	id := functionsByName(t, target)[authorizerName]
	found := false
	for _, s := range policyStatements(target, functionRole(target, id)) {
		acts := actions(s["Action"])
		for _, a := range acts {
			if a != "dynamodb:UpdateItem" && (strings.Contains(a, "Put") || strings.Contains(a, "Delete") || strings.Contains(a, "Update") || strings.Contains(a, "Write")) {
				t.Errorf("authorizer may %s", a)
			}
		}
		if !slices.Contains(acts, "dynamodb:UpdateItem") {
			continue
		}
		found = true
		keys, _ := s["Condition"].(obj)["ForAllValues:StringLike"].(obj)["dynamodb:LeadingKeys"].([]any)
		if len(acts) != 1 || len(keys) != 1 || keys[0] != tokenPartitions {
			t.Errorf("authorizer UpdateItem statement is not limited to %s: %v", tokenPartitions, s)
		}
	}
	if !found {
		t.Error("the authorizer cannot record a token's last use")
	}
}

// Every function whose code signs, verifies or names the signing key gets its id (read off
// internal/app/awsapp and internal/api: packages and render with package_type sign, the
// proof reads the public key, the retention-lifecycle export and the readiness view that
// builds it name the key, the audit functions sign checkpoints), and only those.
func TestSigningKeyEnvironment(t *testing.T) {
	want := []string{"audit-sealer", "audit-writer", "get-evidence-proof", "get-export", "get-exports", "post-package", "post-render", "schedule-runner"}
	eachTarget(t, func(t *testing.T, target string, _ assertions.Template) {
		var got []string
		for name, id := range functionsByName(t, target) {
			v, ok := functionEnv(target, id)[config.EnvSigningKeyID]
			if !ok {
				continue
			}
			got = append(got, name)
			if fmt.Sprint(v) != fmt.Sprint(obj{"Fn::GetAtt": []any{"SigningKey", "Arn"}}) {
				t.Errorf("%s: %s = %v, want the signing key's ARN", name, config.EnvSigningKeyID, v)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("functions with %s: %v, want %v", config.EnvSigningKeyID, got, want)
		}
	})
}

// Every functions/<name> is deployed: a route, the authorizer, or a trigger.
func TestEveryFunctionDirectoryIsDeployed(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	fns := functionsByName(t, TargetAWS)
	for _, d := range dirs {
		if d.IsDir() && fns[d.Name()] == "" {
			t.Errorf("functions/%s is not in the stack", d.Name())
		}
	}
	for name := range triggerAccess {
		if _, err := os.Stat(filepath.Join("..", "functions", name, "main.go")); err != nil {
			t.Errorf("trigger %s: %v", name, err)
		}
	}
}

// The audit writer consumes the table's stream with batch item failures, in batches of 100
// from the oldest record, without bisecting, retrying a failed batch as often as the
// service allows; it is the only mapping.
func TestAuditWriterOnTheStream(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, tp assertions.Template) {
		writer := functionsByName(t, target)[auditWriterName]
		assert(t, "one event source mapping", func() {
			tp.ResourceCountIs(jsii.String("AWS::Lambda::EventSourceMapping"), jsii.Number(1))
		})
		assert(t, "audit writer on the table stream", func() {
			tp.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), obj{
				"FunctionName":               obj{"Ref": writer},
				"EventSourceArn":             obj{"Fn::GetAtt": []any{"Table", "StreamArn"}},
				"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
				"BatchSize":                  100,
				"StartingPosition":           "TRIM_HORIZON",
				"BisectBatchOnFunctionError": false,
				"MaximumRetryAttempts":       auditWriterRetries,
			})
		})
		// The stream read grant is on the writer's role, for the stream only.
		var streamRead bool
		for _, s := range policyStatements(target, functionRole(target, writer)) {
			if slices.Contains(actions(s["Action"]), "dynamodb:DescribeStream") {
				streamRead = fmt.Sprint(s["Resource"]) == fmt.Sprint(obj{"Fn::GetAtt": []any{"Table", "StreamArn"}})
			}
		}
		if !streamRead {
			t.Errorf("audit writer: no stream read grant on the table's stream")
		}
	})
}

// A batch the writer never appends is described in an encrypted, TLS-only queue kept 14
// days and retained with the stack; alarms watch the writer's lag and that queue; only the
// writer may send to it.
func TestAuditStreamFailuresAreKeptAndAlarmed(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, tp assertions.Template) {
		writer := functionsByName(t, target)[auditWriterName]
		queue := queueByPrefix(t, target, "AuditStreamFailures")
		checkKeptQueue(t, target, queue)
		queueArn := obj{"Fn::GetAtt": []any{queue, "Arn"}}
		assert(t, "stream batches the writer never took go to the queue", func() {
			tp.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), obj{
				"DestinationConfig": obj{"OnFailure": obj{"Destination": queueArn}},
			})
		})
		assert(t, "lag alarm on the writer's iterator age", func() {
			tp.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj{
				"Namespace": "AWS/Lambda", "MetricName": "IteratorAge", "Statistic": "Maximum", "Period": 300,
				"Dimensions": []any{obj{"Name": "FunctionName", "Value": obj{"Ref": writer}}},
				"Threshold":  auditLagAlarmMillis, "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1,
			})
		})
		assert(t, "alarm on any described failure", func() {
			tp.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj{
				"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
				"Dimensions": []any{obj{"Name": "QueueName", "Value": obj{"Fn::GetAtt": []any{queue, "QueueName"}}}},
				"Threshold":  0, "ComparisonOperator": "GreaterThanThreshold",
			})
		})
		if senders := queueSenders(t, target)[fmt.Sprint(queueArn)]; fmt.Sprint(senders) != fmt.Sprint([]string{functionRole(target, writer)}) {
			t.Errorf("roles that may send to the failure queue: %v, want only the writer's", senders)
		}
	})
}

// queueByPrefix finds the one queue whose logical ID starts with prefix.
func queueByPrefix(t *testing.T, target, prefix string) string {
	t.Helper()
	var found []string
	for id := range resources(target, "AWS::SQS::Queue") {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("queues %s*: %v, want one", prefix, found)
	}
	return found[0]
}

// checkKeptQueue: the queue is encrypted, keeps messages 14 days (the SQS maximum), is
// retained when the stack lets go of it and accepts TLS only.
func checkKeptQueue(t *testing.T, target, queue string) {
	t.Helper()
	q := resources(target, "AWS::SQS::Queue")[queue]
	p := q["Properties"].(obj)
	if p["SqsManagedSseEnabled"] != true || p["MessageRetentionPeriod"] != float64(14*24*3600) ||
		q["DeletionPolicy"] != "Retain" || q["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("queue %s: %v (deletion %v, replace %v)", queue, p, q["DeletionPolicy"], q["UpdateReplacePolicy"])
	}
	assert(t, queue+" is TLS-only", func() {
		tmpl[target].HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), obj{
			"Queues":         []any{obj{"Ref": queue}},
			"PolicyDocument": like(obj{"Statement": arrayWith(like(obj{"Effect": "Deny", "Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}}}))}),
		})
	})
}

// queueSenders maps each queue ARN (printed) to the roles that may sqs:SendMessage to it;
// a statement that lets a role send to anything but one of the stack's queues fails t.
func queueSenders(t *testing.T, target string) map[string][]string {
	t.Helper()
	queues := map[string]bool{}
	for id := range resources(target, "AWS::SQS::Queue") {
		queues[fmt.Sprint(obj{"Fn::GetAtt": []any{id, "Arn"}})] = true
	}
	out := map[string][]string{}
	for id := range resources(target, "AWS::IAM::Role") {
		for _, st := range policyStatements(target, id) {
			if !slices.Contains(actions(st["Action"]), "sqs:SendMessage") {
				continue
			}
			res := fmt.Sprint(st["Resource"])
			if !queues[res] {
				t.Errorf("%s may send to %s, not one of the stack's queues", id, res)
			}
			out[res] = append(out[res], id)
		}
	}
	return out
}

// trustOf returns the assume-role statements of role (a logical ID).
func trustOf(t *testing.T, target, role string) []any {
	t.Helper()
	r, ok := resources(target, "AWS::IAM::Role")[role]
	if !ok {
		t.Fatalf("no role %s", role)
	}
	return r["Properties"].(obj)["AssumeRolePolicyDocument"].(obj)["Statement"].([]any)
}

// checkSchedulerRole: role is assumable by EventBridge Scheduler alone, for this account's
// schedule groups matching group, and may do nothing but invoke the function fn and, when
// deadLetters (a queue's logical ID) is set, send to that queue.
func checkSchedulerRole(t *testing.T, target, role, fn, group, deadLetters string) {
	t.Helper()
	trust := trustOf(t, target, role)
	if len(trust) != 1 {
		t.Fatalf("%s: %d trust statements, want 1", role, len(trust))
	}
	st := trust[0].(obj)
	if st["Effect"] != "Allow" || fmt.Sprint(st["Principal"]) != fmt.Sprint(obj{"Service": "scheduler.amazonaws.com"}) ||
		st["Action"] != "sts:AssumeRole" {
		t.Errorf("%s: trust %v, want scheduler.amazonaws.com only", role, st)
	}
	cond := fmt.Sprint(st["Condition"])
	if !strings.Contains(cond, "aws:SourceAccount") || !strings.Contains(cond, "aws:SourceArn") ||
		!strings.Contains(cond, ":schedule-group/"+group) {
		t.Errorf("%s: trust condition %s, want this account's schedule groups %s", role, cond, group)
	}
	if target == TargetAWS && !strings.Contains(cond, awsCfg.Account) {
		t.Errorf("%s: trust condition %s does not pin account %s", role, cond, awsCfg.Account)
	}
	stmts := policyStatements(target, role)
	if len(stmts) == 0 {
		t.Fatalf("%s: no policy", role)
	}
	sends := false
	for _, s := range stmts {
		if deadLetters != "" && slices.Contains(actions(s["Action"]), "sqs:SendMessage") {
			sends = true
			checkSendsOnly(t, role, s, deadLetters)
			continue
		}
		if fmt.Sprint(actions(s["Action"])) != "[lambda:InvokeFunction]" || s["Effect"] != "Allow" {
			t.Errorf("%s: may %v, want lambda:InvokeFunction only", role, s["Action"])
		}
		res, _ := s["Resource"].([]any)
		if res == nil {
			res = []any{s["Resource"]}
		}
		for _, r := range res {
			if !strings.Contains(fmt.Sprint(r), fn) {
				t.Errorf("%s: may invoke %v, want %s only", role, r, fn)
			}
		}
	}
	if deadLetters != "" && !sends {
		t.Errorf("%s: may not send to its dead-letter queue %s", role, deadLetters)
	}
	props := resources(target, "AWS::IAM::Role")[role]["Properties"].(obj)
	if props["ManagedPolicyArns"] != nil || props["Policies"] != nil {
		t.Errorf("%s: managed or inline policies %v %v", role, props["ManagedPolicyArns"], props["Policies"])
	}
}

// checkSendsOnly: statement s of role allows sending to queue (and reading its URL and
// attributes, which grantSendMessages adds) and nothing else.
func checkSendsOnly(t *testing.T, role string, s obj, queue string) {
	t.Helper()
	for _, a := range actions(s["Action"]) {
		if !slices.Contains([]string{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}, a) {
			t.Errorf("%s: may %s beside sending to %s", role, a, queue)
		}
	}
	if s["Effect"] != "Allow" || fmt.Sprint(s["Resource"]) != fmt.Sprint(obj{"Fn::GetAtt": []any{queue, "Arn"}}) {
		t.Errorf("%s: sends to %v (%v), want %s only", role, s["Resource"], s["Effect"], queue)
	}
}

// roleByPrefix finds the one role whose logical ID starts with prefix.
func roleByPrefix(t *testing.T, target, prefix string) string {
	t.Helper()
	var found []string
	for id := range resources(target, "AWS::IAM::Role") {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("roles %s*: %v, want one", prefix, found)
	}
	return found[0]
}

// The tenants' schedules fire the schedule-runner through a role EventBridge Scheduler
// alone may assume, which can invoke the schedule-runner and nothing else; post-render
// gets both ARNs and may manage schedules in tenant-* groups of this account and region
// and pass that role (to the scheduler) only.
func TestTenantSchedules(t *testing.T) {
	if got := artifacts.ScheduleGroup("t1"); !strings.HasPrefix(got, strings.TrimSuffix(tenantGroups, "*")) {
		t.Fatalf("the render names groups %q; the grants cover %q", got, tenantGroups)
	}
	eachTarget(t, func(t *testing.T, target string, _ assertions.Template) {
		fns := functionsByName(t, target)
		runner, render := fns[scheduleRunnerName], fns["post-render"]
		role := roleByPrefix(t, target, "SchedulesSchedulerRole")
		checkSchedulerRole(t, target, role, runner, tenantGroups, queueByPrefix(t, target, "SchedulesScheduleDeadLetters"))

		env := functionEnv(target, render)
		dlq := queueByPrefix(t, target, "SchedulesScheduleDeadLetters")
		if fmt.Sprint(env[config.EnvScheduleDeadLetterARN]) != fmt.Sprint(obj{"Fn::GetAtt": []any{dlq, "Arn"}}) {
			t.Errorf("post-render: %s %v, want the queue %s", config.EnvScheduleDeadLetterARN, env[config.EnvScheduleDeadLetterARN], dlq)
		}
		if fmt.Sprint(env[config.EnvScheduleTargetARN]) != fmt.Sprint(obj{"Fn::GetAtt": []any{runner, "Arn"}}) ||
			fmt.Sprint(env[config.EnvScheduleRoleARN]) != fmt.Sprint(obj{"Fn::GetAtt": []any{role, "Arn"}}) {
			t.Errorf("post-render: schedule env %v / %v, want the runner %s and role %s",
				env[config.EnvScheduleTargetARN], env[config.EnvScheduleRoleARN], runner, role)
		}
		cfg := map[string]Config{TargetAWS: awsCfg, TargetEmulator: emuCfg}[target]
		scope := ":scheduler:" + cfg.Region + ":" + cfg.Account // both targets pin their environment
		want := map[string]string{                              // action -> resource the grant must be limited to
			"scheduler:CreateSchedule": ":schedule/tenant-*/*", "scheduler:UpdateSchedule": ":schedule/tenant-*/*",
			"scheduler:DeleteSchedule": ":schedule/tenant-*/*", "scheduler:GetSchedule": ":schedule/tenant-*/*",
			"scheduler:CreateScheduleGroup": ":schedule-group/tenant-*", "scheduler:GetScheduleGroup": ":schedule-group/tenant-*",
		}
		seen := map[string]bool{}
		for _, s := range policyStatements(target, functionRole(target, render)) {
			res := fmt.Sprint(s["Resource"])
			for _, a := range actions(s["Action"]) {
				switch {
				case strings.HasPrefix(a, "scheduler:"):
					seen[a] = true
					if want[a] == "" || !strings.Contains(res, scope+want[a]) {
						t.Errorf("post-render: %s on %s, want only %s in this account and region", a, res, want[a])
					}
				case a == "iam:PassRole":
					seen[a] = true
					if res != fmt.Sprint(obj{"Fn::GetAtt": []any{role, "Arn"}}) ||
						fmt.Sprint(s["Condition"]) != fmt.Sprint(obj{"StringEquals": obj{"iam:PassedToService": "scheduler.amazonaws.com"}}) {
						t.Errorf("post-render: iam:PassRole on %s if %v, want %s to the scheduler only", res, s["Condition"], role)
					}
				}
			}
		}
		for a := range want {
			if !seen[a] {
				t.Errorf("post-render: no %s", a)
			}
		}
		if !seen["iam:PassRole"] {
			t.Errorf("post-render: no iam:PassRole")
		}
	})
}

// The sealer runs every minute on EventBridge Scheduler through its own role, which may
// invoke the sealer only.
func TestAuditSealerSchedule(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, tp assertions.Template) {
		sealer := functionsByName(t, target)[auditSealerName]
		role := roleByPrefix(t, target, "AuditSealerScheduleRole")
		assert(t, "one schedule", func() { tp.ResourceCountIs(jsii.String("AWS::Scheduler::Schedule"), jsii.Number(1)) })
		assert(t, "sealer schedule", func() {
			tp.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), obj{
				"Name":               map[string]Config{TargetAWS: awsCfg, TargetEmulator: emuCfg}[target].StackName + "-audit-sealer",
				"ScheduleExpression": "rate(1 minute)",
				"State":              "ENABLED",
				"FlexibleTimeWindow": obj{"Mode": "OFF"},
				"Target": like(obj{
					"Arn":     obj{"Fn::GetAtt": []any{sealer, "Arn"}},
					"RoleArn": obj{"Fn::GetAtt": []any{role, "Arn"}},
				}),
			})
		})
		checkSchedulerRole(t, target, role, sealer, "default", "")
	})
}

func TestAccessTableFollowsRouteTable(t *testing.T) {
	if _, err := accessFor(api.Routes()); err != nil {
		t.Fatal(err)
	}
	extra := append(api.Routes(), api.Route{Name: "post-unknown", Method: "POST", Path: "/x"})
	if _, err := accessFor(extra); err == nil || !strings.Contains(err.Error(), "post-unknown") {
		t.Fatalf("a route without access was accepted: %v", err)
	}
	if _, err := accessFor(api.Routes()[1:]); err == nil || !strings.Contains(err.Error(), api.Routes()[0].Name) {
		t.Fatalf("a stale access entry was accepted: %v", err)
	}
}

func TestOutputs(t *testing.T) {
	for target, want := range map[string][]string{
		TargetAWS:      {OutAPIID, OutAPIEndpoint, OutTableName, OutBucketName, OutSigningKeyArn, OutArtifactKeyArn, OutSenderIdentity},
		TargetEmulator: {OutAPIID, OutAPIEndpoint, OutTableName, OutBucketName, OutSigningKeyArn, OutArtifactKeyArn},
	} {
		want = append(want, OutAuditWriterFunction, OutAuditSealerFunction, OutAuditSealerSchedule, OutScheduleRunnerArn, OutSchedulerRoleArn,
			OutScheduleDeadLetterQueueURL,
			OutSenderIdentity, OutApprovalStateMachineArn, OutApprovalActivityArn)
		outs := templates[target]["Outputs"].(obj)
		for _, o := range want {
			if outs[o] == nil {
				t.Errorf("%s: no output %s", target, o)
			}
		}
	}
}

func TestConfigFromContext(t *testing.T) {
	ctx := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	c, err := ConfigFromContext(ctx())
	if err != nil || c.Arch != ArchARM64 || c.AWSEndpoint != "" || c.StackName != defaultStackName {
		t.Fatalf("default: %+v %v", c, err)
	}
	c, err = ConfigFromContext(ctx("target", "emulator"))
	if err != nil || c.Arch != ArchX8664 || c.AWSEndpoint != defaultEndpoint || c.Account != emulatorAccount {
		t.Fatalf("emulator: %+v %v", c, err)
	}
	c, err = ConfigFromContext(ctx("account", "123456789012", "region", "eu-west-1", "senderIdentity", "example.com", "objectLockDays", "2555"))
	if err != nil || c.Account != "123456789012" || c.Region != "eu-west-1" || c.ObjectLockDays != 2555 {
		t.Fatalf("aws: %+v %v", c, err)
	}
	for _, bad := range [][]string{
		{"target", "prod"}, {"arch", "amd64"}, {"awsEndpoint", "http://127.0.0.1:4566"}, {"account", "12"},
		{"objectLockDays", "0"}, {"objectLockDays", "ten"}, {"logRetentionDays", "42"}, {"tableName", "a"},
		{"senderIdentity", "not an identity"}, {"target", "emulator", "awsEndpoint", "ftp://x"},
	} {
		if _, err := ConfigFromContext(ctx(bad...)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// The stream-consumer wiring point with its defaults, on a second, tiny app.
func TestStreamConsumerWiring(t *testing.T) {
	app := awscdk.NewApp(nil)
	st := awscdk.NewStack(app, jsii.String("Probe"), nil)
	d := NewData(st, "Data", DataProps{TableName: "probe", ObjectLockDays: 1})
	fn := awslambda.NewFunction(st, jsii.String("Consumer"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_PROVIDED_AL2023(), Handler: jsii.String("bootstrap"),
		Code: awslambda.Code_FromAsset(jsii.String(filepath.Join(emuCfg.DistDir, distArchDir[emuCfg.Arch], authorizerName+".zip")), nil),
	})
	d.AddStreamConsumer(fn, StreamConsumerProps{})
	tp := assertions.Template_FromStack(st, nil)
	assert(t, "event source mapping", func() {
		tp.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), obj{
			"EventSourceArn":             obj{"Fn::GetAtt": []any{"Table", "StreamArn"}},
			"StartingPosition":           "TRIM_HORIZON",
			"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
			"BatchSize":                  100,
			"BisectBatchOnFunctionError": false,
		})
	})
	assert(t, "stream read grant", func() {
		tp.HasResourceProperties(jsii.String("AWS::IAM::Policy"), obj{
			"PolicyDocument": like(obj{"Statement": arrayWith(like(obj{
				"Action":   arrayWith("dynamodb:GetRecords", "dynamodb:GetShardIterator"),
				"Resource": obj{"Fn::GetAtt": []any{"Table", "StreamArn"}},
			}))}),
		})
	})
}

// The item layout the table declares is the one the DynamoDB adapter writes.
func TestTableLayoutMatchesAdapter(t *testing.T) {
	for got, want := range map[string]string{
		attrPK: dynamostore.AttrPK, attrSK: dynamostore.AttrSK, attrGSI1PK: dynamostore.AttrGSI1PK,
		attrGSI1SK: dynamostore.AttrGSI1SK, ttlAttribute: dynamostore.AttrExpiresAt,
	} {
		if got != want {
			t.Errorf("infra declares attribute %q, the adapter writes %q", got, want)
		}
	}
}

// The deploy read-back (stackcheck) derives its expectations from the emulator template.
func TestStackcheckReadsTheTemplate(t *testing.T) {
	b, err := json.Marshal(templates[TargetEmulator])
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := stackcheck.ExpectFromTemplate(path, stackcheck.Outputs{"TableName": "t", "ArtifactBucketName": "b", "ApiId": "a", OutAuditWriterFunction: "w",
		OutAuditFailureQueueArn: "arn:aws:sqs:us-east-1:000000000000:failures"})
	if err != nil {
		t.Fatal(err)
	}
	if e.LockMode != "COMPLIANCE" || e.LockDays != defaultLockDays || !e.Versioned || !e.BlockPublicAccess || !e.KMSEncrypted || !e.TLSOnly {
		t.Errorf("bucket expectations: %+v", e)
	}
	if e.StreamViewType != "NEW_AND_OLD_IMAGES" || !e.PITR || !e.DeletionProtection || e.TTLAttribute != ttlAttribute ||
		fmt.Sprint(e.GSIs) != "[gsi1]" {
		t.Errorf("table expectations: %+v", e)
	}
	if len(e.RouteKeys) != len(api.Routes()) || !e.AuthorizerSimpleResponses || e.AuthorizerTTL != 0 ||
		fmt.Sprint(e.AuthorizerIdentitySource) != "[$request.header.Authorization]" {
		t.Errorf("API expectations: %+v", e)
	}
	if e.Runtime != "provided.al2023" || e.Handler != "bootstrap" || e.Architecture != "x86_64" || e.Functions != len(api.Routes())+1+len(triggerAccess) {
		t.Errorf("function expectations: %+v", e)
	}
	if m := e.StreamConsumer; m == nil || m.Function != "w" || fmt.Sprint(m.FunctionResponseTypes) != "[ReportBatchItemFailures]" ||
		m.BatchSize != 100 || m.StartingPosition != "TRIM_HORIZON" || m.Bisect || m.MaxRetries != auditWriterRetries ||
		m.OnFailure != "arn:aws:sqs:us-east-1:000000000000:failures" {
		t.Errorf("stream consumer expectations: %+v", m)
	}
	if fmt.Sprint(e.Schedules) != fmt.Sprint([]stackcheck.Schedule{{Name: emuCfg.StackName + "-audit-sealer", Expression: "rate(1 minute)", State: "ENABLED"}}) {
		t.Errorf("schedule expectations: %+v", e.Schedules)
	}
}
