package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
)

const (
	// childFlag runs the binary as the fresh process of the peak RSS figure; it is not in the
	// flag set, so -h does not offer it.
	childFlag = "-rss-child"
	// maxBody is the ingest route's body limit (internal/api routes.go).
	maxBody = 4 << 20
	// bigBodyTarget leaves a little room under the limit.
	bigBodyTarget = maxBody - 1024
	childTimeout  = 5 * time.Minute
)

// rssResult is what the child prints: its peak RSS after starting the app, and after the body.
type rssResult struct {
	Bytes   int64 `json:"body_bytes"`
	StartKB int64 `json:"start_max_rss_kb"`
	PeakKB  int64 `json:"max_rss_kb"`
}

// bigBody is one NDJSON body of ingest.MaxBatch padded envelopes, just under the body limit.
func bigBody(run string) ([]byte, error) {
	perLine := bigBodyTarget/ingest.MaxBatch - 1 // the newline
	envs := make([]ingest.PublicEnvelope, ingest.MaxBatch)
	for i := range envs {
		env, err := padded(run, i, perLine)
		if err != nil {
			return nil, err
		}
		envs[i] = env
	}
	return ndjsonBody(envs)
}

// peakRSS writes the big body to a file and has a fresh child process ingest it.
func peakRSS(ctx context.Context, run string) (rssResult, error) {
	dir, err := os.MkdirTemp("", "benchingest-rss")
	if err != nil {
		return rssResult{}, err
	}
	defer os.RemoveAll(dir)
	b, err := bigBody(run)
	if err != nil {
		return rssResult{}, err
	}
	path := filepath.Join(dir, "body.ndjson")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return rssResult{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return rssResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, childTimeout)
	defer cancel()
	// Not started directly: os/exec starts a child with vfork, sharing this process's memory
	// until the exec, and Linux then counts this process's peak in the child's ru_maxrss. A
	// shell forks a real copy of itself (a few MB) to run the child instead.
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `"$0" "$@"; exit $?`, exe, childFlag, filepath.Join(dir, "data"), path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return rssResult{}, fmt.Errorf("rss child: %w", err)
	}
	var res rssResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		return rssResult{}, fmt.Errorf("rss child printed %q: %w", out, err)
	}
	return res, nil
}

// rssChild starts the app in dir, sends the body file once through the local HTTP API and
// prints its own ru_maxrss, so the figure is this process alone.
func rssChild(dir, bodyPath string) error {
	ctx := context.Background()
	p, err := startProduct(ctx, dir)
	if err != nil {
		return err
	}
	defer p.close()
	res := rssResult{StartKB: maxRSSKB()}
	f, err := os.Open(bodyPath)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	// Streamed from the file, the client keeps no copy of the body: the memory is the server's.
	if err := p.post(client(1), "application/x-ndjson", f, st.Size(), ingest.MaxBatch); err != nil {
		return err
	}
	res.Bytes, res.PeakKB = st.Size(), maxRSSKB()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// maxRSSKB is the process's peak resident set so far (Linux reports kilobytes).
func maxRSSKB() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}
