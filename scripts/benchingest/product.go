package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/localserver"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

const (
	ingestPath = "/enterprise/aispm/ingest"
	// requestTimeout bounds one request, so a stuck server ends the run instead of hanging it.
	requestTimeout = 2 * time.Minute
)

// product is the embedded app behind the local HTTP server on loopback.
type product struct {
	app   *embeddedapp.App
	srv   *http.Server
	dir   string
	url   string
	token string
}

func startProduct(ctx context.Context, dir string) (*product, error) {
	a, err := embeddedapp.Open(ctx, config.Embedded{Listen: "127.0.0.1:0", DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clock.NewManual(now))
	if err != nil {
		return nil, err
	}
	p := &product{app: a, dir: dir}
	if err := p.serve(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return p, nil
}

func (p *product) serve(ctx context.Context) error {
	if _, err := p.app.Tenants.Create(ctx, tenant, "Bench Corp", tenancy.Enterprise); err != nil {
		return err
	}
	tok, _, err := p.app.Tokens.Issue(ctx, tenant, auth.ReportOperator, "system")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p.srv = &http.Server{Handler: localserver.Handler(p.app.Router(quiet), p.app.Tokens, localserver.Options{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	p.url, p.token = "http://"+ln.Addr().String()+ingestPath, tok
	return nil
}

func (p *product) close() {
	_ = p.srv.Close()
	_ = p.app.Close()
}

// dbPath is the item store's SQLite file (embeddedapp keeps it as aispm.db in the data folder).
func (p *product) dbPath() string { return filepath.Join(p.dir, "aispm.db") }

func client(conc int) *http.Client {
	return &http.Client{Timeout: requestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
}

// post sends one body of size bytes and checks that all want envelopes in it were accepted.
func (p *product) post(c *http.Client, contentType string, body io.Reader, size int64, want int) error {
	req, err := http.NewRequest(http.MethodPost, p.url, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var res struct {
		Accepted int `json:"accepted"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &res) != nil || res.Accepted != want {
		return fmt.Errorf("ingest answered %d (want 202 with %d accepted): %.300s", resp.StatusCode, want, raw)
	}
	return nil
}

// body is one request body and how many envelopes it holds.
type body struct {
	data      []byte
	envelopes int
}

// load sends every body from conc clients, each taking the next unsent one, and returns the
// wall time from the first request to the last answer.
func (p *product) load(contentType string, bodies []body, conc int) (time.Duration, error) {
	c := client(conc)
	var next atomic.Int64
	errs := make(chan error, conc)
	start := time.Now()
	for range conc {
		go func() {
			for i := next.Add(1) - 1; i < int64(len(bodies)); i = next.Add(1) - 1 {
				b := bodies[i]
				if err := p.post(c, contentType, bytes.NewReader(b.data), int64(len(b.data)), b.envelopes); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range conc {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return time.Since(start), first
}
