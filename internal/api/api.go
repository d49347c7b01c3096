// Package api is the transport-free HTTP API: one route table (method, path, handler,
// roles) that the local server, every Lambda main and the CDK app all read, a router that
// authorizes and dispatches, and the one place where errors become status codes and the
// stable error body {"error":{"code","message","field"}}.
package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// Request is a transport-neutral API request. Principal is set by the router after
// authentication; handlers read the tenant only from it.
type Request struct {
	Method     string
	Path       string
	PathParams map[string]string
	Query      url.Values
	Header     http.Header
	Body       []byte
	Principal  auth.Principal
}

// Response is what a handler returns; Body is marshalled as JSON unless Raw is set.
type Response struct {
	Status int
	Header http.Header
	Body   any
	Raw    []byte
}

// HandlerFunc serves one route.
type HandlerFunc func(ctx context.Context, h *Handlers, r Request) (Response, error)

// JSON builds a JSON response.
func JSON(status int, body any) Response { return Response{Status: status, Body: body} }
