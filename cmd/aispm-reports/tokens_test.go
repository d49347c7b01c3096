package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRevocationReachesARunningServerWithinItsBound revokes, from the CLI (its own process),
// a token that a running server has just served: the server must refuse it within the
// stated 5 s bound and for good afterwards, while the tenant's other tokens keep working.
func TestRevocationReachesARunningServerWithinItsBound(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	srv := startServer(t, bin, dir)
	b, err := os.ReadFile(filepath.Join(dir, "demo-tokens.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := parseTokens(string(b))
	op, admin := tokens["report_operator"], tokens["tenant_admin"]
	if s := catalogStatus(t, srv, op); s != http.StatusOK {
		t.Fatalf("operator token before revocation: %d", s)
	}

	ref := tokenRefOfRole(t, runCLI(t, bin, dir, "token", "list", demoTenant), "report_operator")
	runCLI(t, bin, dir, "token", "revoke", demoTenant, ref)
	revoked := time.Now()
	var took time.Duration
	for {
		if catalogStatus(t, srv, op) == http.StatusUnauthorized {
			took = time.Since(revoked)
			break
		}
		if time.Since(revoked) > 8*time.Second {
			t.Fatalf("the server still accepts a token revoked %v ago (bound: 5 s)", time.Since(revoked))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for range 5 {
		if s := catalogStatus(t, srv, op); s != http.StatusUnauthorized {
			t.Fatalf("revoked token accepted again: %d", s)
		}
	}
	if took > 6*time.Second {
		t.Fatalf("revocation took %v to reach the server (bound: 5 s)", took)
	}
	if s := catalogStatus(t, srv, admin); s != http.StatusOK {
		t.Fatalf("the tenant's other token stopped working: %d", s)
	}
	list := runCLI(t, bin, dir, "token", "list", demoTenant)
	if strings.Contains(list, ref) || !strings.Contains(list, "tenant_admin") {
		t.Fatalf("token list after revocation:\n%s", list)
	}
	t.Logf("revoked from the CLI; the running server refused the token after %v", took.Round(10*time.Millisecond))
}

func catalogStatus(t *testing.T, s *server, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+"/enterprise/aispm/reports/catalog", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// tokenRefOfRole reads the ref of the one token of role from `token list` output.
func tokenRefOfRole(t *testing.T, list, role string) string {
	t.Helper()
	var refs []string
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == role && f[2] == "active" {
			refs = append(refs, f[0])
		}
	}
	if len(refs) != 1 {
		t.Fatalf("want one active %s token in:\n%s", role, list)
	}
	return refs[0]
}
