// Package emulatortest finds the local AWS emulators for integration tests. A test that
// needs one calls MiniStack(t) or Moto(t): it skips with a message when the emulator is not
// reachable on a developer machine, and fails under CI (CI=true), where a skip would hide a
// missing check. Start the emulators with `scripts/emulators.sh up` (make test does).
package emulatortest

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"
)

// MiniStack returns the MiniStack endpoint (AISPM_MINISTACK_ENDPOINT, default
// http://127.0.0.1:4566) after checking it is healthy.
func MiniStack(t testing.TB) string {
	return require(t, "MiniStack", endpoint("AISPM_MINISTACK_ENDPOINT", "http://127.0.0.1:4566"), "/_ministack/health")
}

// Moto returns the moto server endpoint (AISPM_MOTO_ENDPOINT, default http://127.0.0.1:5055)
// after checking it is healthy. It holds S3 Object Lock buckets.
func Moto(t testing.TB) string {
	return require(t, "moto", endpoint("AISPM_MOTO_ENDPOINT", "http://127.0.0.1:5055"), motoHealth)
}

// MotoMail returns a second moto server used only for SES (AISPM_MOTO_MAIL_ENDPOINT, default
// http://127.0.0.1:5056). Sent mail is read back from moto's whole-state dump
// (/moto-api/data.json), which grows with every locked S3 object the other tests leave: on
// the S3 instance it reached megabytes and tens of seconds, on this one it stays small.
func MotoMail(t testing.TB) string {
	return require(t, "moto (mail)", endpoint("AISPM_MOTO_MAIL_ENDPOINT", "http://127.0.0.1:5056"), motoHealth)
}

// motoHealth is moto's dashboard page: cheap, unlike the state dump.
const motoHealth = "/moto-api/"

// ResetMiniStack wipes all MiniStack state.
func ResetMiniStack(t testing.TB, base string) { post(t, base+"/_ministack/reset") }

// ResetMoto wipes all moto state.
func ResetMoto(t testing.TB, base string) { post(t, base+"/moto-api/reset") }

func endpoint(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

func require(t testing.TB, name, base, health string) string {
	t.Helper()
	if err := probe(base + health); err != nil {
		msg := name + " emulator not reachable at " + base + " (start it with scripts/emulators.sh up): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return base
}

func probe(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func post(t testing.TB, url string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatalf("reset %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("reset %s: status %d", url, resp.StatusCode)
	}
}
