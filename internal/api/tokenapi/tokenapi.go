// Package tokenapi lets a tenant admin manage the API tokens of the caller's own tenant
// (routes get-tokens, post-token, post-token-revoke, post-token-rotate). A new token's secret
// is in the response once and nowhere else.
package tokenapi

import (
	"context"
	"net/http"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Tokens is what the routes need of auth.Tokens.
type Tokens interface {
	List(ctx context.Context, tenantID string) ([]auth.Info, error)
	IssueToken(ctx context.Context, r auth.IssueRequest) (auth.Issued, error)
	Revoke(ctx context.Context, tenantID, tokenRef, actorRole string) error
	Rotate(ctx context.Context, r auth.RotateRequest) (auth.Issued, error)
}

// Handlers serves the token routes.
func Handlers(tokens Tokens) api.Handlers {
	return api.Handlers{
		"get-tokens": func(ctx context.Context, r api.Request) (api.Response, error) {
			list, err := tokens.List(ctx, r.Principal.TenantID)
			if err != nil {
				return api.Response{}, err
			}
			return api.JSON(http.StatusOK, map[string]any{"tokens": list}), nil
		},
		"post-token": func(ctx context.Context, r api.Request) (api.Response, error) {
			var body struct {
				Role    auth.Role `json:"role"`
				TTLDays int       `json:"ttl_days"`
			}
			if err := schemas.DecodeValid(schemas.TokenRequest, r.Body, &body); err != nil {
				return api.Response{}, err
			}
			out, err := tokens.IssueToken(ctx, auth.IssueRequest{TenantID: r.Principal.TenantID, Role: body.Role,
				TTL: days(body.TTLDays), ActorRole: string(r.Principal.Role)})
			if err != nil {
				return api.Response{}, err
			}
			return api.JSON(http.StatusCreated, out), nil
		},
		"post-token-revoke": func(ctx context.Context, r api.Request) (api.Response, error) {
			if err := schemas.EmptyObject(r.Body); err != nil {
				return api.Response{}, err
			}
			ref := r.PathParams["token"]
			if err := tokens.Revoke(ctx, r.Principal.TenantID, ref, string(r.Principal.Role)); err != nil {
				return api.Response{}, err
			}
			return api.JSON(http.StatusOK, map[string]any{"token_ref": ref, "status": "revoked"}), nil
		},
		"post-token-rotate": func(ctx context.Context, r api.Request) (api.Response, error) {
			var body struct {
				TTLDays int `json:"ttl_days"`
			}
			if err := schemas.DecodeValid(schemas.TokenRotate, schemas.OrEmptyObject(r.Body), &body); err != nil {
				return api.Response{}, err
			}
			out, err := tokens.Rotate(ctx, auth.RotateRequest{TenantID: r.Principal.TenantID, TokenRef: r.PathParams["token"],
				TTL: days(body.TTLDays), ActorRole: string(r.Principal.Role)})
			if err != nil {
				return api.Response{}, err
			}
			return api.JSON(http.StatusCreated, out), nil
		},
	}
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// FromPorts builds the handlers on their own services (one Lambda function).
func FromPorts(p ports.Set) (api.Handlers, error) {
	if err := p.Require(ports.Items, ports.Clock); err != nil {
		return nil, err
	}
	st := settings.NewService(p.Items, p.Clock, p.Egress)
	return Handlers(auth.NewTokens(p.Items, p.Clock, st.TokenLifetimes)), nil
}
