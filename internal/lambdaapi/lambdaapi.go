// Package lambdaapi adapts the router to API Gateway HTTP API events: the Lambda authorizer
// (simple responses carrying tenant and role in its context) and the per-route handlers.
package lambdaapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// Context keys the authorizer sets and the route handlers read.
const (
	ctxTenant = "tenant_id"
	ctxRole   = "role"
)

// Authorizer authenticates the bearer token. Role checks stay with the route handler, which
// knows its own route's roles from the route table.
func Authorizer(authn api.Authenticator) func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
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
			Context:      map[string]any{ctxTenant: p.TenantID, ctxRole: string(p.Role)},
		}, nil
	}
}

// Handler serves routes behind the authorizer.
func Handler(rt *api.Router) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		req := api.Request{
			Method:    ev.RequestContext.HTTP.Method,
			Path:      ev.RawPath,
			Query:     query(ev.RawQueryString),
			Header:    headers(ev.Headers),
			Body:      body(ev),
			Principal: principal(ev),
		}
		if req.Path == "" {
			req.Path = ev.RequestContext.HTTP.Path
		}
		return toEvent(rt.ServeAuthorized(ctx, req)), nil
	}
}

func principal(ev events.APIGatewayV2HTTPRequest) auth.Principal {
	if ev.RequestContext.Authorizer == nil {
		return auth.Principal{}
	}
	lc := ev.RequestContext.Authorizer.Lambda
	tenant, _ := lc[ctxTenant].(string)
	role, _ := lc[ctxRole].(string)
	return auth.Principal{TenantID: tenant, Role: auth.Role(role)}
}

func body(ev events.APIGatewayV2HTTPRequest) []byte {
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return []byte(ev.Body)
		}
		return b
	}
	return []byte(ev.Body)
}

func query(raw string) url.Values {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return url.Values{}
	}
	return q
}

func headers(in map[string]string) http.Header {
	h := http.Header{}
	for k, v := range in {
		h.Set(k, v)
	}
	return h
}

func header(in map[string]string, name string) string {
	for k, v := range in {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func toEvent(resp api.Response) events.APIGatewayV2HTTPResponse {
	b, err := api.Encode(resp)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusInternalServerError,
			Body: `{"error":{"code":"internal","message":"response encoding failed","field":""}}`}
	}
	out := events.APIGatewayV2HTTPResponse{
		StatusCode: resp.Status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
	for k, vs := range resp.Header {
		if len(vs) > 0 {
			out.Headers[k] = vs[0]
		}
	}
	return out
}
