package api_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/localserver"
)

// badBodies are request bodies no route takes: broken or non-object JSON, JSON that
// encoding/json would quietly accept or rewrite, bytes that are not UTF-8, a nesting bomb.
var badBodies = map[string]string{
	"truncated":      `{"a":`,
	"null":           `null`,
	"array":          `[]`,
	"string":         `"x"`,
	"number":         `1`,
	"unknown field":  `{"no_such_field_anywhere":1}`,
	"duplicate keys": `{"a":1,"a":2}`,
	"bom":            "\ufeff{}",
	"not utf-8":      "{\"a\":\"\xff\xfe\"}",
	"nul byte":       "{\"a\":\"\x00\"}",
	"huge number":    `{"a":1e999999}`,
	"deep nesting":   strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000),
	"trailing data":  `{} {}`,
	"lone surrogate": `{"a":"\ud800"}`,
}

// badContentTypes are declared types no route reads, or JSON in a charset it would misread.
var badContentTypes = []string{"text/plain", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "application/json; charset", "multipart/form-data; boundary=x"}

// badQueries are query strings no route takes: malformed escapes, ';' separators, unknown
// and repeated parameters.
var badQueries = []string{"%zz=1", "a;b=1", "no_such_parameter=1", "=1", "%ff=1"}

// badParams are path parameter values that name nothing: dot segments, control bytes,
// invalid UTF-8, separators and an oversized id.
var badParams = []string{"..", ".", "%2e%2e", "%00", "%E2%28%A1", "a%2Fb", "x'OR'1=1", strings.Repeat("a", 4096)}

// TestEveryRouteRefusesBadInput walks the route table with a corpus of malformed requests:
// every one must be a 4xx with the stable error body, no 5xx, and nothing may change in
// either tenant. A new route is covered the moment it is in the table.
func TestEveryRouteRefusesBadInput(t *testing.T) {
	e, owner := ownedResources(t)
	before := map[string]int{"acme": e.evidenceCount("acme"), "globex": e.evidenceCount("globex")}
	sent, byStatus := 0, map[int]int{}
	try := func(rt api.Route, what, method, path string, body []byte, hdr map[string]string) {
		t.Helper()
		r := e.call(method, path, e.as("acme", rt.Roles[0]), body, hdr)
		sent++
		byStatus[r.status]++
		if r.status < 400 || r.status > 499 {
			t.Errorf("%s %s (%s): %d, want a 4xx: %.300s", method, rt.Name, what, r.status, r.body)
			return
		}
		requireError(t, r, r.status, "", "")
	}
	for _, rt := range api.Routes() {
		path := rt.Path
		for _, p := range pathParams(rt.Path) {
			path = fill(path, p, owner[p])
		}
		for _, q := range badQueries {
			try(rt, "query "+q, rt.Method, path+"?"+q, emptyObjectIfBody(rt), nil)
		}
		for _, p := range pathParams(rt.Path) {
			for _, v := range badParams {
				try(rt, "param "+p+"="+v, rt.Method, fill(rt.Path, p, v), emptyObjectIfBody(rt), nil)
			}
		}
		try(rt, "unsupported method", "PURGE", path, []byte(`{}`), nil)
		try(rt, "no such sub-resource", rt.Method, path+"/no-such-thing", emptyObjectIfBody(rt), nil)
		if !rt.TakesBody() {
			try(rt, "body where none is taken", rt.Method, path, []byte(`{}`), nil)
			continue
		}
		for name, b := range badBodies {
			try(rt, "body "+name, rt.Method, path, []byte(b), nil)
		}
		for _, ct := range badContentTypes {
			try(rt, "content type "+ct, rt.Method, path, []byte(`{}`), map[string]string{"Content-Type": ct})
		}
		try(rt, "body over the limit", rt.Method, path, []byte(`{"a":"`+strings.Repeat("x", int(rt.BodyLimit()))+`"}`), nil)
		for _, im := range []string{`"5`, `6"`, `7`, `""8""`, `W/`, `"1",`} {
			try(rt, "If-Match "+im, rt.Method, path, []byte(`{"no_such_field_anywhere":1}`), map[string]string{"If-Match": im})
		}
	}
	for tenant, n := range before {
		if got := e.evidenceCount(tenant); got != n {
			t.Errorf("%s: %d evidence records after the corpus, %d before", tenant, got, n)
		}
	}
	if sent < 500 {
		t.Fatalf("only %d requests sent", sent)
	}
	t.Logf("%d malformed requests over %d routes, answered %v", sent, len(api.Routes()), byStatus)
}

func emptyObjectIfBody(rt api.Route) []byte {
	if rt.TakesBody() {
		return []byte(`{}`)
	}
	return nil
}

func TestStrictInputNamesWhatItRefuses(t *testing.T) {
	e, owner := ownedResources(t)
	admin, op := e.as("acme", auth.TenantAdmin), e.as("acme", auth.ReportOperator)
	before := e.evidenceCount("acme")
	sendBody := mustJSON(t, map[string]any{"artifact_ref": owner["artifact"], "channel": "portal", "recipients": []string{"a@partner.example"}})
	requireError(t, e.call("POST", sendPath, op, sendBody, map[string]string{"Content-Type": "application/json; charset=utf-16"}), 415, "unsupported_media_type", "Content-Type")
	for _, im := range []string{`"5`, `6"`, `7`, `""8""`} {
		requireError(t, e.call("PUT", settingsPath, admin, []byte(goodSettings), map[string]string{"If-Match": im}), 400, "invalid_field", "If-Match")
	}
	requireError(t, e.call("GET", deliveriesPath+"?%zz=1", admin, nil, nil), 400, "invalid_field", "query")
	requireError(t, e.call("GET", deliveriesPath+"?statuz=sent", admin, nil, nil), 400, "unknown_parameter", "statuz")
	requireError(t, e.call("GET", deliveriesPath+"?status=sent&status=failed", admin, nil, nil), 400, "", "status")
	requireError(t, e.call("GET", deliveriesPath, admin, []byte(`{"status":"sent"}`), nil), 400, "body_not_allowed", "")
	requireError(t, e.call("DELETE", artifactsPath+owner["artifact"], admin, []byte(`{}`), nil), 400, "body_not_allowed", "")
	for _, p := range []string{artifactsPath + "..", artifactsPath + owner["artifact"] + "/..", artifactsPath + "%2e%2e", "/enterprise/aispm/reports/exports/./delivery-audit-event", "/enterprise/aispm/reports//catalog"} {
		requireError(t, e.call("GET", p, admin, nil, nil), 404, "not_found", "")
	}
	if got := e.evidenceCount("acme"); got != before {
		t.Fatalf("%d evidence records after refusals, %d before", got, before)
	}
}

// TestBodyThatStopsShortIsRefusedPromptly sends a body shorter than its Content-Length,
// once left open and once half-closed: each must be a 400 incomplete_body within the read
// deadline (not a 503 after the server's own timeouts), logged as a client fault.
func TestBodyThatStopsShortIsRefusedPromptly(t *testing.T) {
	e := newEnv(t)
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	srv := httptest.NewServer(localserver.Handler(e.app.Router(log), e.app.Tokens, localserver.Options{BodyTimeout: 300 * time.Millisecond}))
	t.Cleanup(srv.Close)
	for _, halfClose := range []bool{false, true} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"report_id\":", renderPath, e.as("acme", auth.ReportOperator))
		if halfClose {
			conn.(*net.TCPConn).CloseWrite()
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("half-closed %v: %v", halfClose, err)
		}
		b, _ := io.ReadAll(resp.Body)
		conn.Close()
		if took := time.Since(start); resp.StatusCode != 400 || !strings.Contains(string(b), `"incomplete_body"`) || took > 2*time.Second {
			t.Fatalf("half-closed %v: %d %s after %v", halfClose, resp.StatusCode, b, took)
		}
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") || !strings.Contains(out, "level=WARN") {
		t.Fatalf("a short body must be logged as a client fault, not an error:\n%s", out)
	}
}

// syncWriter serialises writes from the server's goroutines into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
