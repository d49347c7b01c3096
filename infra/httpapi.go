package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
)

// authorizerName is functions/<authorizerName>.
const authorizerName = "authorizer"

// APIProps configures the HTTP API and its functions.
type APIProps struct {
	Name   string
	Routes []api.Route
	Access map[string]Access
	// Functions builds the authorizer and the route functions.
	Functions *Functions
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
		return props.Functions.New(c, name, access, timeoutSeconds)
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
