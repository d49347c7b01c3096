// Package lambdaauth is the API Gateway HTTP API Lambda authorizer: bearer token -> tenant
// and role, handed to the route functions in the authorizer context. It is its own small
// package so the authorizer binary links only token lookup, not the whole API: it runs in
// front of every request, and its cold start is every caller's.
package lambdaauth

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// Context keys the authorizer sets and the route handlers read.
const (
	ContextTenant = "tenant_id"
	ContextRole   = "role"
	// ContextTokenRef is the token's reference (never the secret): the domain tells a
	// requester from an approver by it (no self-approval).
	ContextTokenRef = "token_ref"
)

// Authenticator turns an Authorization header into a principal (auth.Tokens does).
type Authenticator interface {
	Authenticate(ctx context.Context, header string) (auth.Principal, error)
}

// Authorizer authenticates the bearer token. Role checks stay with the route handler, which
// knows its own route's roles from the route table.
func Authorizer(authn Authenticator) func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		p, err := authn.Authenticate(ctx, header(ev.Headers, "authorization"))
		if err != nil {
			if p, refused := problem.As(err); refused && p.Kind == problem.Unauthenticated {
				return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
			}
			// Infrastructure trouble: fail the invocation so API Gateway answers 500, not 403.
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, err
		}
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{
			IsAuthorized: true,
			Context:      map[string]any{ContextTenant: p.TenantID, ContextRole: string(p.Role), ContextTokenRef: p.TokenRef},
		}, nil
	}
}

func header(in map[string]string, name string) string {
	for k, v := range in {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
