// Package localserver serves the whole route table over net/http on the embedded default.
package localserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
)

// maxRead caps what is read of any body; routes enforce their own smaller limits, and a
// body over this is refused without reading the rest.
const maxRead = 8 << 20

// Handler adapts the router to net/http. Extra handlers (health, presigned object reads)
// are mounted on their own path prefixes.
func Handler(rt *api.Router, authn api.Authenticator, extra map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	for prefix, h := range extra {
		mux.Handle(prefix, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		req, err := toRequest(w, r)
		if err != nil {
			write(w, api.TooLargeResponse())
			return
		}
		write(w, rt.ServeAuthenticated(r.Context(), authn, req))
	})
	return mux
}

func toRequest(w http.ResponseWriter, r *http.Request) (api.Request, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRead))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return api.Request{}, err
	}
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	if qerr != nil {
		q = url.Values{}
	}
	return api.Request{Method: r.Method, Path: r.URL.Path, Query: q, Header: r.Header, Body: body}, nil
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
