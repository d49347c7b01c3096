// Command benchingest measures public live-ingestion envelopes per second through POST
// /enterprise/aispm/ingest on the embedded default, served by the local HTTP server on
// loopback to a real HTTP client, beside a reference measured in the same run on the same
// machine: the same rows inserted straight into SQLite.
//
//	go run ./scripts/benchingest [-n 20000] [-c 2] [-runs 3] [-cpuprofile FILE]
//
// Every run, for each mode (batches {"envelopes":[...]} of 500, NDJSON bodies of 500 lines):
//
//  1. product: a fresh data folder and app on a fixed clock, one warm-up request, then n
//     envelopes (keys unique to the run, bodies built beforehand) sent by c clients; rate =
//     n / wall time from the first request to the last answer.
//  2. reference: every row the product wrote to its SQLite file in step 1 (items and
//     changes) is read back and inserted into a fresh file with the item store's own schema
//     and settings in one transaction; rate = n / the time from BEGIN to COMMIT.
//
// Then peak RSS: one NDJSON body of 500 envelopes just under the 4 MiB limit, ingested by a
// fresh child process of this binary that starts the app, serves the body once through the
// local HTTP API and reports its own ru_maxrss. Figures are the median and range of the runs.
// Goals: product at least half the reference's rate, peak RSS under 128 MB.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
)

const tenant = "bench"

// now is the benchmark's fixed clock; every envelope happened in the day before it.
var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

const (
	ratioGoal = 0.5
	rssGoalMB = 128
)

// mode is one way of sending envelopes.
type mode struct {
	name, contentType string
	encode            func([]ingest.PublicEnvelope) ([]byte, error)
}

var modes = []mode{
	{"batch JSON", "application/json", batchBody},
	{"NDJSON", "application/x-ndjson", ndjsonBody},
}

type options struct {
	n, conc, runs int
	profile       string
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == childFlag {
		exitOn(rssChild(os.Args[2], os.Args[3]))
		return
	}
	var o options
	flag.IntVar(&o.n, "n", 20_000, "envelopes per mode")
	flag.IntVar(&o.conc, "c", 2, "concurrent clients")
	flag.IntVar(&o.runs, "runs", 3, "runs of every measurement (median and range are reported)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the first run's product load to FILE.<mode>")
	flag.Parse()
	if o.n < 1 || o.conc < 1 || o.runs < 1 {
		exitOn(fmt.Errorf("-n, -c and -runs must be at least 1"))
	}
	exitOn(run(context.Background(), o))
}

func exitOn(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchingest:", err)
		os.Exit(1)
	}
}

// figures of one mode over the runs.
type modeFigures struct {
	product, reference, ratio []float64
	rows                      int
}

func run(ctx context.Context, o options) error {
	figs := make([]modeFigures, len(modes))
	var rss []rssResult
	for r := range o.runs {
		id, err := runID()
		if err != nil {
			return err
		}
		for i, m := range modes {
			profile := ""
			if r == 0 && o.profile != "" {
				profile = o.profile + "." + filepath.Base(m.contentType)
			}
			res, err := measure(ctx, m, fmt.Sprintf("%s%d", id, i), o, profile)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			figs[i].add(res, o.n)
			fmt.Fprintf(os.Stderr, "run %d %-10s product %s, reference %s (%d rows)\n", r+1, m.name,
				res.product.Round(time.Millisecond), res.reference.Round(time.Millisecond), res.rows)
		}
		res, err := peakRSS(ctx, id)
		if err != nil {
			return err
		}
		rss = append(rss, res)
		fmt.Fprintf(os.Stderr, "run %d peak RSS %.1f MiB\n", r+1, mib(res.PeakKB))
	}
	report(o, figs, rss)
	return nil
}

func runID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

type modeResult struct {
	product, reference time.Duration
	rows               int
}

func (f *modeFigures) add(r modeResult, n int) {
	p, ref := float64(n)/r.product.Seconds(), float64(n)/r.reference.Seconds()
	f.product, f.reference, f.ratio = append(f.product, p), append(f.reference, ref), append(f.ratio, p/ref)
	f.rows = r.rows
}

// measure runs one mode on a fresh app, then its reference on the rows it wrote.
func measure(ctx context.Context, m mode, run string, o options, profile string) (modeResult, error) {
	dir, err := os.MkdirTemp("", "benchingest")
	if err != nil {
		return modeResult{}, err
	}
	defer os.RemoveAll(dir)
	bodies, err := m.bodies(run, o.n)
	if err != nil {
		return modeResult{}, err
	}
	p, err := startProduct(ctx, dir)
	if err != nil {
		return modeResult{}, err
	}
	elapsed, seq, err := p.timedLoad(ctx, m, run, bodies, o.conc, profile)
	p.close()
	if err != nil {
		return modeResult{}, err
	}
	written, err := readRows(ctx, p.dbPath(), seq)
	if err != nil {
		return modeResult{}, err
	}
	ref, err := insertRows(ctx, filepath.Join(dir, "reference.db"), written)
	if err != nil {
		return modeResult{}, fmt.Errorf("reference: %w", err)
	}
	return modeResult{product: elapsed, reference: ref, rows: written.count()}, nil
}

// timedLoad warms the app up (lazily compiled schemas and patterns, the first connection),
// notes where its change feed stands, then times the load.
func (p *product) timedLoad(ctx context.Context, m mode, run string, bodies []body, conc int, profile string) (time.Duration, int64, error) {
	warm, err := m.encode(envelopes(run+"w", 0, 1))
	if err != nil {
		return 0, 0, err
	}
	if _, err := p.load(m.contentType, []body{{warm, 1}}, 1); err != nil {
		return 0, 0, fmt.Errorf("warm-up: %w", err)
	}
	seq, err := lastSeq(ctx, p.dbPath())
	if err != nil {
		return 0, 0, err
	}
	stop, err := startProfile(profile)
	if err != nil {
		return 0, 0, err
	}
	elapsed, err := p.load(m.contentType, bodies, conc)
	stop()
	return elapsed, seq, err
}

func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// bodies encodes n envelopes in bodies of ingest.MaxBatch.
func (m mode) bodies(run string, n int) ([]body, error) {
	var out []body
	for first := 0; first < n; first += ingest.MaxBatch {
		envs := envelopes(run, first, min(ingest.MaxBatch, n-first))
		b, err := m.encode(envs)
		if err != nil {
			return nil, err
		}
		out = append(out, body{b, len(envs)})
	}
	return out, nil
}

func report(o options, figs []modeFigures, rss []rssResult) {
	fmt.Printf("public envelopes through POST %s, loopback HTTP, embedded default, fixed clock\n", ingestPath)
	fmt.Printf("%d envelopes per mode, %d per body, %d clients; median [min-max] of %d runs\n\n", o.n, ingest.MaxBatch, o.conc, o.runs)
	fmt.Printf("%-11s %-24s %-26s %s\n", "mode", "product envelopes/s", "SQLite reference env/s", "product/reference")
	for i, m := range modes {
		f := figs[i]
		fmt.Printf("%-11s %-24s %-26s %s\n", m.name, spread(f.product, "%.0f"), spread(f.reference, "%.0f"), spread(f.ratio, "%.2f")+"x")
	}
	peak, start := make([]float64, len(rss)), make([]float64, len(rss))
	for i, r := range rss {
		peak[i], start[i] = mib(r.PeakKB), mib(r.StartKB)
	}
	fmt.Printf("%-11s one %d-byte NDJSON body of %d envelopes in a fresh process: %s MiB (%s MiB after start)\n\n",
		"peak RSS", rss[0].Bytes, ingest.MaxBatch, spread(peak, "%.1f"), spread(start, "%.1f"))
	for i, m := range modes {
		f := figs[i]
		fmt.Printf("%s product: %s envelopes/s\n", m.name, spread(f.product, "%.0f"))
		fmt.Printf("%s reference (%d rows in one transaction): %s envelopes/s\n", m.name, f.rows, spread(f.reference, "%.0f"))
		fmt.Printf("%s ratio: %s (goal >= %.1fx: %s)\n", m.name, spread(f.ratio, "%.2f")+"x", ratioGoal, met(median(f.ratio) >= ratioGoal))
	}
	fmt.Printf("peak RSS: %s MiB (goal < %d MB: %s)\n", spread(peak, "%.1f"), rssGoalMB, met(median(peak)*(1<<20) < rssGoalMB*1e6))
}

func mib(kb int64) float64 { return float64(kb) / 1024 }

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is "median [min-max]", or the value alone for one run.
func spread(v []float64, format string) string {
	if len(v) == 1 {
		return fmt.Sprintf(format, v[0])
	}
	return fmt.Sprintf(format+" ["+format+"-"+format+"]", median(v), slices.Min(v), slices.Max(v))
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}
