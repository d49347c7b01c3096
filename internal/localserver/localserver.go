// Package localserver serves the whole route table over net/http on the embedded default.
package localserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// maxRead caps what is read of any body; routes enforce their own smaller limits, and a
// body over this is refused without reading the rest.
const maxRead = 8 << 20

// DefaultBodyTimeout is how long a request body may take to arrive once its headers have.
const DefaultBodyTimeout = 5 * time.Second

// Options tune the handler; the zero value is the default.
type Options struct {
	// Extra handlers (health, presigned object reads) are mounted on their own path prefixes.
	Extra map[string]http.Handler
	// BodyTimeout bounds reading a request body (DefaultBodyTimeout when 0): a body shorter
	// than its Content-Length is answered 400 when it runs out, instead of holding the
	// connection until the server's own timeouts.
	BodyTimeout time.Duration
}

// Handler adapts the router to net/http.
func Handler(rt *api.Router, authn api.Authenticator, opts Options) http.Handler {
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = DefaultBodyTimeout
	}
	extra := http.NewServeMux()
	for prefix, h := range opts.Extra {
		extra.Handle(prefix, h)
	}
	serveAPI := func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, opts.BodyTimeout)
		if err != nil {
			p := refusal(err)
			// The client's fault, not the server's: worth a line, not an alert.
			rt.Log().WarnContext(r.Context(), "request body not read", "method", r.Method, "path", r.URL.Path, "code", p.Code, "err", err)
			w.Header().Set("Connection", "close")
			write(w, api.ProblemResponse(p))
			return
		}
		req := api.Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header, Body: body}
		write(w, rt.ServeAuthenticated(r.Context(), authn, req))
	}
	// API paths go to the router as sent: a ServeMux would answer a path with dot segments
	// or doubled slashes with a redirect to its cleaned form, so ".../artifacts/x/.." would
	// reach another route. The router matches such a path to nothing (404).
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for prefix := range opts.Extra {
			if strings.HasPrefix(r.URL.Path, prefix) {
				extra.ServeHTTP(w, r)
				return
			}
		}
		serveAPI(w, r)
	})
}

// readBody reads the whole body under a read deadline, then lifts it again: net/http's
// background read of a kept-alive connection would otherwise hit the deadline while a slow
// handler runs and cancel its context.
func readBody(w http.ResponseWriter, r *http.Request, timeout time.Duration) ([]byte, error) {
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRead))
	if err != nil {
		return nil, err
	}
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	return body, nil
}

// refusal words a body read failure: too large (413), or cut short: a connection closed
// early or a body that stopped arriving before the deadline (400).
func refusal(err error) *problem.Error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return api.ErrBodyTooLarge
	}
	return problem.New(problem.Invalid, "incomplete_body", "body",
		"the request body ended before its Content-Length, or did not arrive in time")
}

func write(w http.ResponseWriter, resp api.Response) {
	body, err := api.Encode(resp)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"response encoding failed","field":""}}`, http.StatusInternalServerError)
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(body)
}

// Serve runs srv until ctx ends, then shuts it down gracefully.
func Serve(ctx context.Context, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return srv.Shutdown(context.WithoutCancel(ctx))
	}
}
