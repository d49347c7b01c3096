// Command benchcatalog measures the local server answering GET catalog on loopback, side by
// side with a bare net/http handler that writes the same bytes, under the same load.
//
//	go run ./scripts/benchcatalog [-c 8] [-d 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/localserver"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

const path = "/enterprise/aispm/reports/catalog"

func main() {
	conc := flag.Int("c", 8, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "duration of each run")
	flag.Parse()
	if err := run(*conc, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "benchcatalog:", err)
		os.Exit(1)
	}
}

func run(conc int, dur time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "benchcatalog")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a, err := embeddedapp.Open(ctx, config.Embedded{DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clock.System{})
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Tenants.Create(ctx, "bench", "Bench Org", tenancy.Enterprise); err != nil {
		return err
	}
	token, _, err := a.Tokens.Issue(ctx, "bench", auth.ReportOperator, "system")
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	product := localserver.Handler(a.Router(quiet), a.Tokens, localserver.Options{})
	productURL, stopProduct, err := listen(product)
	if err != nil {
		return err
	}
	defer stopProduct()
	body, err := fetchOnce(productURL, token)
	if err != nil {
		return err
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	bareURL, stopBare, err := listen(bare)
	if err != nil {
		return err
	}
	defer stopBare()

	fmt.Printf("GET catalog, %d-byte body, %d clients, %s per run, loopback, keep-alive\n", len(body), conc, dur)
	b := load(bareURL, "", conc, dur)
	p := load(productURL, token, conc, dur)
	fmt.Printf("%-22s %10s %10s %10s %10s %8s\n", "server", "req/s", "p50", "p99", "max", "errors")
	for _, r := range []struct {
		name string
		res  result
	}{{"bare net/http", b}, {"aispm-reports local", p}} {
		fmt.Printf("%-22s %10.0f %10s %10s %10s %8d\n", r.name, r.res.rps, r.res.p50, r.res.p99, r.res.max, r.res.errors)
	}
	fmt.Printf("throughput ratio (product/bare): %.2fx; product p99 %s\n", p.rps/b.rps, p.p99)
	return nil
}

func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + path, func() { _ = srv.Close() }, nil
}

func fetchOnce(url, token string) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("catalog answered %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

type result struct {
	rps           float64
	p50, p99, max time.Duration
	errors        int
}

// load runs conc clients for dur (bounded by time) and collects every latency.
func load(url, token string, conc int, dur time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	deadline := time.Now().Add(dur)
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if !get(client, url, token) {
					bad++
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))].Round(time.Microsecond) }
	return result{rps: float64(len(all)) / elapsed.Seconds(), p50: q(0.50), p99: q(0.99), max: all[len(all)-1].Round(time.Microsecond), errors: errs}
}

func get(client *http.Client, url, token string) bool {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}
