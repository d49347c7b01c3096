// Package lambdaapi adapts the router to API Gateway HTTP API events for the per-route
// handlers; the principal comes from the authorizer context (package lambdaauth).
package lambdaapi

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/lambdaauth"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// Handler serves routes behind the authorizer.
func Handler(rt *api.Router) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		b, err := body(ev)
		if err != nil {
			return toEvent(api.ProblemResponse(problem.New(problem.Invalid, "malformed_body", "body", "the request body is not valid base64"))), nil
		}
		req := api.Request{
			Method:    ev.RequestContext.HTTP.Method,
			Path:      ev.RawPath,
			RawQuery:  ev.RawQueryString,
			Header:    headers(ev.Headers),
			Body:      b,
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
	tenant, _ := lc[lambdaauth.ContextTenant].(string)
	role, _ := lc[lambdaauth.ContextRole].(string)
	tokenRef, _ := lc[lambdaauth.ContextTokenRef].(string)
	return auth.Principal{TenantID: tenant, Role: auth.Role(role), TokenRef: tokenRef}
}

// body is the request body API Gateway passed, base64-decoded when it says so.
func body(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if ev.IsBase64Encoded {
		return base64.StdEncoding.DecodeString(ev.Body)
	}
	return []byte(ev.Body), nil
}

func headers(in map[string]string) http.Header {
	h := http.Header{}
	for k, v := range in {
		h.Set(k, v)
	}
	return h
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
