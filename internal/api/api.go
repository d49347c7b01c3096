// Package api is the transport-free HTTP API: one route table (name, method, path, roles)
// that the local server, every Lambda main and the CDK app all read, a router that
// authorizes and dispatches, and the one place where errors become status codes and the
// stable error body {"error":{"code","message","field"}}.
//
// The handlers live with their domain (catalogapi, settingsapi, ingestapi, reportapi) and
// are joined to the table by route name, so a Lambda function links only its own domain:
// that keeps its binary small and its cold start light.
package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// Request is a transport-neutral API request. The adapters set RawQuery as received;
// the router parses it into Query (refusing a malformed query or a parameter the route
// does not take) and sets Principal after authentication: handlers read the tenant only
// from it.
type Request struct {
	Method     string
	Path       string
	PathParams map[string]string
	RawQuery   string
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
type HandlerFunc func(ctx context.Context, r Request) (Response, error)

// Handlers maps route names (Route.Name) to their handlers.
type Handlers map[string]HandlerFunc

// Join merges handler sets; a name served twice is a wiring bug, reported as an error.
func Join(sets ...Handlers) (Handlers, error) {
	all := Handlers{}
	for _, set := range sets {
		for name, h := range set {
			if _, dup := all[name]; dup {
				return nil, fmt.Errorf("route %q has two handlers", name)
			}
			all[name] = h
		}
	}
	return all, nil
}

// JSON builds a JSON response.
func JSON(status int, body any) Response { return Response{Status: status, Body: body} }
