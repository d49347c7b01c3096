package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// Authenticator turns an Authorization header into a principal (auth.Tokens does).
type Authenticator interface {
	Authenticate(ctx context.Context, header string) (auth.Principal, error)
}

// Router dispatches requests over the route table.
type Router struct {
	handlers Handlers
	routes   []Route
	log      *slog.Logger
}

// NewRouter serves routes (all of Routes() for the local server, one for a Lambda); every
// route needs its handler in h, so a wiring gap fails at start-up, not on a request.
func NewRouter(h Handlers, routes []Route, log *slog.Logger) (*Router, error) {
	var missing []string
	for _, r := range routes {
		if h[r.Name] == nil {
			missing = append(missing, r.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no handler for route(s) %s", strings.Join(missing, ", "))
	}
	return &Router{handlers: h, routes: routes, log: log}, nil
}

// Resolve finds the route for method and path: 404 when no path matches, 405 when the
// path exists with other methods.
func (rt *Router) Resolve(method, path string) (Route, map[string]string, error) {
	pathKnown := false
	for _, r := range rt.routes {
		params, ok := r.match(path)
		if !ok {
			continue
		}
		if r.Method == method {
			return r, params, nil
		}
		pathKnown = true
	}
	if pathKnown {
		return Route{}, nil, problem.New(problem.MethodNotAllowed, "method_not_allowed", "", "method not allowed on this path")
	}
	return Route{}, nil, problem.New(problem.NotFound, "not_found", "", "no such endpoint")
}

// ServeAuthenticated handles a request whose header has not been checked yet (local server).
func (rt *Router) ServeAuthenticated(ctx context.Context, authn Authenticator, req Request) Response {
	route, params, err := rt.Resolve(req.Method, req.Path)
	if err != nil {
		return rt.fail(ctx, req, err)
	}
	p, err := authn.Authenticate(ctx, req.Header.Get("Authorization"))
	if err != nil {
		return rt.fail(ctx, req, err)
	}
	req.Principal, req.PathParams = p, params
	return rt.serve(ctx, route, req)
}

// ServeAuthorized handles a request whose principal an authorizer already established
// (API Gateway's Lambda authorizer); the role is still checked against the route here.
func (rt *Router) ServeAuthorized(ctx context.Context, req Request) Response {
	route, params, err := rt.Resolve(req.Method, req.Path)
	if err != nil {
		return rt.fail(ctx, req, err)
	}
	if req.Principal.TenantID == "" || !req.Principal.Role.Valid() {
		return rt.fail(ctx, req, auth.ErrUnauthenticated)
	}
	req.PathParams = params
	return rt.serve(ctx, route, req)
}

func (rt *Router) serve(ctx context.Context, route Route, req Request) (resp Response) {
	defer func() {
		// A handler bug must never take the process down or leak a stack to the caller.
		if v := recover(); v != nil {
			rt.log.ErrorContext(ctx, "handler panic", "route", route.Name, "panic", v)
			resp = errorResponse(http.StatusInternalServerError, "internal", "", "internal error")
		}
	}()
	if !route.Allows(req.Principal.Role) {
		return rt.fail(ctx, req, problem.New(problem.Forbidden, "forbidden", "", "role "+string(req.Principal.Role)+" may not call this endpoint"))
	}
	q, err := parseQuery(route, req.RawQuery)
	if err != nil {
		return rt.fail(ctx, req, err)
	}
	req.Query = q
	if err := checkBody(route, req); err != nil {
		return rt.fail(ctx, req, err)
	}
	resp, err = rt.handlers[route.Name](ctx, req)
	if err != nil {
		return rt.fail(ctx, req, err)
	}
	return resp
}

func checkBody(route Route, req Request) error {
	if int64(len(req.Body)) > route.BodyLimit() {
		return ErrBodyTooLarge
	}
	if !route.TakesBody() {
		if len(req.Body) > 0 {
			return ErrBodyNotAllowed
		}
		return nil
	}
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(route.MediaTypes(), mt) {
		return problem.New(problem.UnsupportedMedia, "unsupported_media_type", "Content-Type", "send "+strings.Join(route.MediaTypes(), " or "))
	}
	// Bodies are read as UTF-8 (RFC 8259 §8.1); a body declared in another charset would be
	// misread, not converted, so it is refused rather than guessed at.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return problem.New(problem.UnsupportedMedia, "unsupported_media_type", "Content-Type", "send the body as UTF-8 (charset=utf-8, or no charset)")
	}
	return nil
}

var kindStatus = map[problem.Kind]int{
	problem.Invalid: 400, problem.Unauthenticated: 401, problem.Forbidden: 403, problem.NotFound: 404,
	problem.MethodNotAllowed: 405, problem.Conflict: 409, problem.PreconditionFailed: 412,
	problem.TooLarge: 413, problem.UnsupportedMedia: 415,
}

// fail maps an error to a response: refusals keep their code and field; anything else is
// logged with its cause and answered with an opaque 5xx.
func (rt *Router) fail(ctx context.Context, req Request, err error) Response {
	if p, ok := problem.As(err); ok {
		return ProblemResponse(p)
	}
	status, code := http.StatusInternalServerError, "internal"
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		status, code = http.StatusServiceUnavailable, "unavailable"
	}
	rt.log.ErrorContext(ctx, "request failed", "method", req.Method, "path", req.Path, "tenant", req.Principal.TenantID, "err", err)
	return errorResponse(status, code, "", "the request could not be completed; it was not applied or can be retried safely")
}

// ErrorBody is the stable error document (schemas/error.schema.json).
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func errorResponse(status int, code, field, message string) Response {
	return JSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: message, Field: field}})
}

// Encode renders a response body.
func Encode(resp Response) ([]byte, error) {
	if resp.Raw != nil {
		return resp.Raw, nil
	}
	return json.Marshal(resp.Body)
}

// ProblemResponse is the answer to a refusal: its status and the stable error body. The
// adapters use it for what they refuse before a request reaches the router (a body too
// large or too slow to read).
func ProblemResponse(p *problem.Error) Response {
	return errorResponse(kindStatus[p.Kind], p.Code, p.Field, p.Message)
}

// ErrBodyTooLarge is the refusal of a body too large to even read.
var ErrBodyTooLarge = problem.New(problem.TooLarge, "body_too_large", "", "request body exceeds the limit for this endpoint")

// ErrBodyNotAllowed refuses a body on a route that takes none (GET, DELETE): a caller who
// sends filters there would otherwise get an answer that silently ignored them.
var ErrBodyNotAllowed = problem.New(problem.Invalid, "body_not_allowed", "", "this endpoint takes no request body")

// Log is the router's logger, for the adapters' own refusals.
func (rt *Router) Log() *slog.Logger { return rt.log }
