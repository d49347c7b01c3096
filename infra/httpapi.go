package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// authorizerName is functions/<authorizerName>.
const authorizerName = "authorizer"

// APIProps configures the HTTP API and its functions.
type APIProps struct {
	Name   string
	Routes []api.Route
	Access map[string]Access
	Data   *Data
	// SigningKey signs for the functions whose Access has Sign.
	SigningKey awskms.IKey
	// Arch is ArchARM64 or ArchX8664; code comes from <DistDir>/<dist arch dir>/<name>.zip.
	Arch    string
	DistDir string
	// Env is added to every function's environment (for example the emulator endpoint).
	Env          map[string]string
	LogRetention awslogs.RetentionDays
}

// API is the HTTP API: a Lambda authorizer on every route and one function per route-table
// entry.
type API struct {
	constructs.Construct
	HTTPAPI    awsapigatewayv2.HttpApi
	Authorizer awslambda.Function
	// Functions by route name.
	Functions map[string]awslambda.Function
}

// NewAPI creates the authorizer, the route functions and the routes.
func NewAPI(scope constructs.Construct, id string, props APIProps) (*API, error) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &API{Construct: c, Functions: map[string]awslambda.Function{}}

	newFunction := func(name string, access Access, timeoutSeconds float64) (awslambda.Function, error) {
		env := map[string]*string{
			config.EnvTable:          props.Data.Table.TableName(),
			config.EnvArtifactBucket: props.Data.Bucket.BucketName(),
		}
		if access.usesSigningKey() {
			env[config.EnvSigningKeyID] = props.SigningKey.KeyArn()
		}
		for k, v := range props.Env {
			env[k] = jsii.String(v)
		}
		zip := filepath.Join(props.DistDir, distArchDir[props.Arch], name+".zip")
		if _, err := os.Stat(zip); err != nil {
			return nil, fmt.Errorf("function %s: %w (build it with LAMBDA_ARCH=%s scripts/build-lambdas.sh)", name, err, distArchDir[props.Arch])
		}
		logs := awslogs.NewLogGroup(c, jsii.String(name+"-logs"), &awslogs.LogGroupProps{
			Retention:     props.LogRetention,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		fn := awslambda.NewFunction(c, jsii.String(name), &awslambda.FunctionProps{
			Description:  jsii.String("AISPM reports: " + name),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: architecture(props.Arch),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(zip), nil),
			MemorySize:   jsii.Number(256),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(timeoutSeconds)),
			Environment:  &env,
			LogGroup:     logs,
		})
		grant(fn, access, props.Data, props.SigningKey)
		return fn, nil
	}

	authFn, err := newFunction(authorizerName, authorizerAccess, 5)
	if err != nil {
		return nil, err
	}
	a.Authorizer = authFn
	authorizer := awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String("TokenAuthorizer"), authFn,
		&awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
			AuthorizerName: jsii.String("token"),
			ResponseTypes:  &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
			IdentitySource: jsii.Strings("$request.header.Authorization"),
			// Off: the route function re-checks the role per route, and a cached "allow"
			// would outlive a revoked token.
			ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(0)),
		})

	a.HTTPAPI = awsapigatewayv2.NewHttpApi(c, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(props.Name),
		Description:        jsii.String("AISPM Report Center API"),
		CreateDefaultStage: jsii.Bool(true),
	})
	for _, r := range props.Routes {
		access, ok := props.Access[r.Name]
		if !ok {
			return nil, fmt.Errorf("route %s has no access entry", r.Name)
		}
		fn, err := newFunction(r.Name, access, 25)
		if err != nil {
			return nil, err
		}
		a.Functions[r.Name] = fn
		a.HTTPAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(strings.ToUpper(r.Method))},
			Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(r.Name+"-integration"), fn, nil),
			Authorizer:  authorizer,
		})
	}
	return a, nil
}

func architecture(arch string) awslambda.Architecture {
	if arch == ArchX8664 {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

// grant turns an Access into grant* calls: no hand-written IAM.
func grant(fn awslambda.Function, a Access, d *Data, signing awskms.IKey) {
	switch a.Table {
	case TableRead:
		d.Table.GrantReadData(fn)
	case TableReadWrite:
		d.Table.GrantReadWriteData(fn)
	}
	if a.ObjectsRead {
		d.Bucket.GrantRead(fn, nil)
	}
	if a.ObjectsWrite {
		d.Bucket.GrantPut(fn, nil)
	}
	if a.ObjectsDelete {
		d.Bucket.GrantDelete(fn, nil)
	}
	if a.Sign {
		signing.GrantSign(fn)
	}
	if a.usesSigningKey() {
		signing.Grant(fn, jsii.String("kms:GetPublicKey"))
	}
}
