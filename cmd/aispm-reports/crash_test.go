package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// The embedded server is killed with SIGKILL while four clients ingest, five times over. An
// acknowledged batch must survive every kill, a batch whose answer was lost must be stored
// at most once, and the audit log must still verify in depth afterwards.
const (
	crashRounds    = 5
	crashClients   = 4
	crashBatchSize = 5
)

func TestKilledServerLosesAndDuplicatesNothing(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	occurred := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var (
		acked, attempted []string // batch ids
		requests         int
	)
	for round := range crashRounds {
		srv := startServer(t, bin, dir)
		a, n := ingestUntilKilled(t, srv, round, occurred, time.Duration(300+rand.IntN(600))*time.Millisecond)
		acked, attempted, requests = append(acked, a.acked...), append(attempted, a.attempted...), requests+n
	}
	t.Logf("%d kills, %d requests, %d batches acknowledged, %d whose answer was lost", crashRounds, requests, len(acked), len(attempted)-len(acked))
	if len(acked) < crashRounds {
		t.Fatalf("only %d batches acknowledged across %d rounds: the load did not run", len(acked), crashRounds)
	}

	// Replay everything: an acknowledged batch must come back as all duplicates.
	srv := startServer(t, bin, dir)
	ackedSet := map[string]bool{}
	for _, id := range acked {
		ackedSet[id] = true
	}
	for _, id := range attempted {
		res, status := postBatch(srv, id, occurred)
		if status != http.StatusOK && status != http.StatusAccepted { // 200: nothing new
			t.Fatalf("replay of %s: status %d", id, status)
		}
		if ackedSet[id] && res.Duplicates != crashBatchSize {
			t.Fatalf("acknowledged batch %s lost: replay stored %d anew", id, res.Accepted)
		}
	}
	srv.stop(t)

	// Every attempted batch is now stored exactly once.
	counts := storedEventIDs(t, dir, occurred)
	if len(counts) != len(attempted)*crashBatchSize {
		t.Fatalf("%d distinct events stored, want %d", len(counts), len(attempted)*crashBatchSize)
	}
	for id, n := range counts {
		if n != 1 {
			t.Fatalf("event %s stored %d times", id, n)
		}
	}

	bundle := filepath.Join(t.TempDir(), "bundle")
	runCLI(t, bin, dir, "export-bundle", demoTenant, bundle)
	t.Logf("%s", runCLI(t, bin, dir, "verify", "log", bundle, "--deep"))
}

func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aispm-reports")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

type server struct {
	cmd    *exec.Cmd
	base   string
	token  string
	stderr *bytes.Buffer
}

func startServer(t *testing.T, bin, dir string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{base: "http://" + addr, stderr: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(), config.EnvDataDir+"="+dir, config.EnvListen+"="+addr)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo-tokens.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s.token = parseTokens(string(b))["report_operator"]
	return s
}

// stop ends the server as an operator would (SIGTERM) and waits for it.
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, s.stderr)
	}
}

type roundResult struct{ acked, attempted []string }

// ingestUntilKilled runs crashClients clients posting fresh batches and kills the server
// with SIGKILL after d. It returns the batches acknowledged and all those sent.
func ingestUntilKilled(t *testing.T, s *server, round int, occurred time.Time, d time.Duration) (roundResult, int) {
	t.Helper()
	var (
		mu       sync.Mutex
		res      roundResult
		requests int
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	for c := range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("r%d-c%d-b%d", round, c, i)
				mu.Lock()
				res.attempted, requests = append(res.attempted, id), requests+1
				mu.Unlock()
				_, status := postBatch(s, id, occurred)
				if status == 0 {
					return // the server is gone
				}
				if status != http.StatusAccepted {
					t.Errorf("batch %s: status %d", id, status)
					return
				}
				mu.Lock()
				res.acked = append(res.acked, id)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(d)
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	close(stop)
	wg.Wait()
	return res, requests
}

type ingestReply struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// postBatch sends batch id's crashBatchSize envelopes; status 0 means no answer arrived.
func postBatch(s *server, id string, occurred time.Time) (ingestReply, int) {
	envs := make([]string, crashBatchSize)
	for i := range envs {
		envs[i] = fmt.Sprintf(`{"schema_version":"aispm.ingest_envelope.v1","idempotency_key":"%s-%d","source":{"kind":"coding_agent","connector":"cursor","agent":"a"},`+
			`"event":{"event_id":"%s-%d","occurred_at":%q,"type":"tool_call","decision":"blocked","severity":"high","policy_pack":"baseline","control_ids":["AC-3"]},`+
			`"content":{"raw_prompt_included":false,"model_reasoning_included":false,"tool_output_included":false}}`, id, i, id, i, occurred.Format(time.RFC3339))
	}
	req, _ := http.NewRequest("POST", s.base+"/enterprise/aispm/ingest", strings.NewReader(`{"envelopes":[`+strings.Join(envs, ",")+`]}`))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	client := http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return ingestReply{}, 0
	}
	defer resp.Body.Close()
	var r ingestReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return ingestReply{}, 0 // cut off mid-answer
	}
	return r, resp.StatusCode
}

// storedEventIDs counts each event id over the indexed segments of the demo tenant's day.
func storedEventIDs(t *testing.T, dir string, occurred time.Time) map[string]int {
	t.Helper()
	ctx := context.Background()
	a, err := embeddedapp.Open(ctx, config.Embedded{Listen: "127.0.0.1:0", DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	segs, err := a.Ingest.Segments(ctx, demoTenant, occurred.Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, seg := range segs {
		rc, _, err := a.Objects.Get(ctx, seg.ObjectKey, seg.VersionID)
		if err != nil {
			t.Fatalf("segment %s: %v", seg.SegmentRef, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != seg.Events {
			t.Fatalf("segment %s: %d lines, index says %d", seg.SegmentRef, len(lines), seg.Events)
		}
		for _, line := range lines {
			var env struct {
				Event struct {
					EventID string `json:"event_id"`
				} `json:"event"`
			}
			if err := json.Unmarshal([]byte(line), &env); err != nil || env.Event.EventID == "" {
				t.Fatalf("segment %s: unreadable line %q", seg.SegmentRef, line)
			}
			counts[env.Event.EventID]++
		}
	}
	return counts
}

func runCLI(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), config.EnvDataDir+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aispm-reports %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
