// Command coldstart measures how long a Lambda custom-runtime bootstrap takes from process
// start to its first GET /2018-06-01/runtime/invocation/next, the moment it is ready for an
// invocation. A fake Runtime API on 127.0.0.1 (AWS_LAMBDA_RUNTIME_API) records that call;
// the process is then killed. Bootstraps are run interleaved, so load on the machine hits
// every one alike.
//
//	go run ./scripts/coldstart -n 30 -env AISPM_TABLE=t -env AISPM_ARTIFACT_BUCKET=b \
//	  hello=/tmp/hello/bootstrap get-catalog=/tmp/get-catalog/bootstrap
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

type envFlags []string

func (e *envFlags) String() string     { return strings.Join(*e, ",") }
func (e *envFlags) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	n := flag.Int("n", 30, "runs per bootstrap")
	var env envFlags
	flag.Var(&env, "env", "KEY=VALUE added to every bootstrap's environment (repeatable)")
	flag.Parse()
	if flag.NArg() == 0 || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: coldstart [-n N] [-env K=V]... name=path/to/bootstrap...")
		os.Exit(2)
	}
	if err := run(*n, env, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

type target struct{ name, path string }

func run(n int, env []string, args []string) error {
	var targets []target
	for _, a := range args {
		name, path, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("%q: want name=path", a)
		}
		targets = append(targets, target{name, path})
	}
	ready := make(chan time.Time, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next" {
			select {
			case ready <- time.Now():
			default:
			}
			<-r.Context().Done() // hold the poll open until the process is killed
			return
		}
		http.NotFound(w, r)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	base := []string{
		"PATH=/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_LAMBDA_FUNCTION_NAME=coldstart",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_SESSION_TOKEN=test", "_HANDLER=bootstrap",
	}
	times := map[string][]time.Duration{}
	for i := 0; i < n; i++ {
		for _, t := range targets {
			d, err := once(t.path, append(base, env...), ready)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", t.name, i+1, err)
			}
			times[t.name] = append(times[t.name], d)
		}
	}
	width := len("bootstrap")
	for _, t := range targets {
		width = max(width, len(t.name))
	}
	fmt.Printf("%-*s %5s %9s %9s %9s %9s\n", width, "bootstrap", "runs", "min", "median", "p90", "max")
	var first time.Duration
	for i, t := range targets {
		ds := times[t.name]
		slices.Sort(ds)
		med := percentile(ds, 50)
		ratio := ""
		if i == 0 {
			first = med
		} else if first > 0 {
			ratio = fmt.Sprintf("  %.2fx the first", float64(med)/float64(first))
		}
		fmt.Printf("%-*s %5d %9s %9s %9s %9s%s\n", width, t.name, len(ds), ms(ds[0]), ms(med), ms(percentile(ds, 90)), ms(ds[len(ds)-1]), ratio)
	}
	return nil
}

// once starts the bootstrap and returns the time until its first poll for an invocation.
func once(path string, env []string, ready chan time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case at := <-ready:
		cmd.Process.Kill()
		<-exited
		return at.Sub(start), nil
	case err := <-exited:
		return 0, fmt.Errorf("exited before polling (%v): %s", err, stderr.String())
	case <-ctx.Done():
		<-exited
		return 0, errors.New("no poll within 10s")
	}
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
