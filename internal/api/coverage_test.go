package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// coverageStep drives one state-changing route with a valid request.
type coverageStep struct {
	route string
	call  func(t *testing.T, e *env, s *coverageState) reply
}

// coverageState carries refs from one step to the next.
type coverageState struct {
	artifacts     []string
	distributions []string
	tokens        []string
	schedule      string
}

// coverageSteps, in order: every route that is not a GET must have one. A new
// state-changing route fails TestEveryActionReachesTheAuditLog until it gets a step here.
var coverageSteps = []coverageStep{
	{"put-settings", func(t *testing.T, e *env, _ *coverageState) reply {
		return e.call("PUT", settingsPath, e.as("acme", auth.TenantAdmin), []byte(`{}`), nil)
	}},
	{"post-ingest", func(t *testing.T, e *env, _ *coverageState) reply {
		return e.call("POST", ingestPath, e.as("acme", auth.ReportOperator), mustJSON(t, envelope("coverage-1", "2026-11-27T09:00:00Z", "allowed")), nil)
	}},
	{"post-render", func(t *testing.T, e *env, s *coverageState) reply {
		r := e.call("POST", renderPath, e.as("acme", auth.ReportOperator), mustJSON(t, renderBody("agent_risk_register", "csv", "json")), nil)
		var out renderReply
		json.Unmarshal(r.body, &out)
		for _, a := range out.Artifacts {
			s.artifacts = append(s.artifacts, a.ArtifactRef)
		}
		return r
	}},
	{"post-search", func(t *testing.T, e *env, _ *coverageState) reply {
		return e.call("POST", searchPath, e.as("acme", auth.AuditorViewer), []byte(`{}`), nil)
	}},
	{"post-retrieval", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("POST", artifactsPath+s.artifacts[0]+"/retrieval", e.as("acme", auth.AuditorViewer), nil, nil)
	}},
	{"post-package", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("POST", packagesPath, e.as("acme", auth.TenantAdmin),
			mustJSON(t, map[string]any{"package_type": "board_and_audit_bundle", "artifact_refs": s.artifacts}), nil)
	}},
	{"put-recipient-policy", func(t *testing.T, e *env, _ *coverageState) reply {
		return e.call("PUT", policyPath, e.as("acme", auth.TenantAdmin),
			[]byte(`{"domain_rules":[],"default_action":"require_approval","external_delivery_default":"require_approval"}`), nil)
	}},
	{"post-send", func(t *testing.T, e *env, s *coverageState) reply {
		// Two gated sends: the next steps approve one and deny the other.
		var r reply
		for _, key := range []string{"coverage-send-1", "coverage-send-2"} {
			r = e.call("POST", sendPath, e.as("acme", auth.ReportOperator), mustJSON(t, map[string]any{"artifact_ref": s.artifacts[0],
				"channel": "portal", "recipients": []string{"auditor@partner.example"}}), map[string]string{"Idempotency-Key": key})
			if r.status != 201 {
				return r
			}
			s.distributions = append(s.distributions, decodeDelivery(t, r).DistributionRef)
		}
		return r
	}},
	{"post-distribution-approve", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("POST", distPath+s.distributions[0]+"/approve", e.as("acme", auth.Approver), nil, nil)
	}},
	{"post-distribution-deny", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("POST", distPath+s.distributions[1]+"/deny", e.as("acme", auth.SecurityLeadership), nil, nil)
	}},
	{"post-legal-hold", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("POST", artifactsPath+s.artifacts[0]+"/legal-hold", e.as("acme", auth.SecurityLeadership), []byte(`{"case_ref":"case:coverage"}`), nil)
	}},
	{"post-deletion-readiness", func(t *testing.T, e *env, _ *coverageState) reply {
		return e.call("POST", "/enterprise/aispm/reports/retention/deletion-readiness", e.as("acme", auth.AuditorViewer), nil, nil)
	}},
	{"post-legal-hold-release", func(t *testing.T, e *env, s *coverageState) reply {
		e.expireArtifacts(t) // the worker's step: artifacts pass their retention
		return e.call("POST", artifactsPath+s.artifacts[0]+"/legal-hold/release", e.as("acme", auth.SecurityLeadership), []byte(`{"case_ref":"case:coverage"}`), nil)
	}},
	{"delete-artifact", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("DELETE", artifactsPath+s.artifacts[1], e.as("acme", auth.TenantAdmin), nil, nil)
	}},
	{"post-schedule", func(t *testing.T, e *env, s *coverageState) reply {
		body := scheduleBody(func(b, _ map[string]any) {
			b["delivery"] = map[string]any{"channel": "portal", "recipients": []string{"ops@acme.example"}}
		})
		r := e.call("POST", schedulesPath, e.as("acme", auth.ReportOperator), mustJSON(t, body), nil)
		var v scheduleView
		json.Unmarshal(r.body, &v)
		s.schedule = v.ScheduleRef
		return r
	}},
	{"post-schedule-approve", func(t *testing.T, e *env, s *coverageState) reply {
		// The policy saved above gates every domain: the schedule waits for an approver.
		return e.call("POST", schedulesPath+"/"+s.schedule+"/approve", e.as("acme", auth.Approver), nil, nil)
	}},
	{"post-schedule-deny", func(t *testing.T, e *env, s *coverageState) reply {
		other := e.createSchedule(t, scheduleBody(func(b, _ map[string]any) {
			b["delivery"] = map[string]any{"channel": "portal", "recipients": []string{"board@acme.example"}}
		}))
		return e.call("POST", schedulesPath+"/"+other.ScheduleRef+"/deny", e.as("acme", auth.SecurityLeadership), []byte(`{"reason_code":"not_needed"}`), nil)
	}},
	{"patch-schedule", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("PATCH", schedulesPath+"/"+s.schedule, e.as("acme", auth.ReportOperator), []byte(`{"name":"Renamed"}`), nil)
	}},
	{"post-schedule-pause", func(t *testing.T, e *env, s *coverageState) reply {
		// The runner's step first: the next nominal fire records a run.
		next, _ := time.Parse(time.RFC3339, e.call("GET", schedulesPath+"/"+s.schedule, e.as("acme", auth.TenantAdmin), nil, nil).json(t)["next_run_at"].(string))
		e.tickAt(t, next.Format(time.RFC3339))
		return e.call("POST", schedulesPath+"/"+s.schedule+"/pause", e.as("acme", auth.ReportOperator), nil, nil)
	}},
	{"post-schedule-resume", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("POST", schedulesPath+"/"+s.schedule+"/resume", e.as("acme", auth.ReportOperator), nil, nil)
	}},
	{"delete-schedule", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("DELETE", schedulesPath+"/"+s.schedule, e.as("acme", auth.ReportOperator), nil, nil)
	}},
	{"post-token", func(t *testing.T, e *env, s *coverageState) reply {
		r := e.call("POST", tokensPath, e.as("acme", auth.TenantAdmin), []byte(`{"role":"approver","ttl_days":30}`), nil)
		s.tokens = append(s.tokens, issuedToken(t, r).TokenRef)
		return r
	}},
	{"post-token-rotate", func(t *testing.T, e *env, s *coverageState) reply {
		r := e.call("POST", tokensPath+"/"+s.tokens[0]+"/rotate", e.as("acme", auth.TenantAdmin), nil, nil)
		s.tokens = append(s.tokens, issuedToken(t, r).TokenRef)
		return r
	}},
	{"post-token-revoke", func(t *testing.T, e *env, s *coverageState) reply {
		return e.call("POST", tokensPath+"/"+s.tokens[1]+"/revoke", e.as("acme", auth.TenantAdmin), nil, nil)
	}},
}

// expireArtifacts moves past every artifact's retention and runs the scheduler, whose
// expiry firing is the worker that writes artifact.expired.
func (e *env) expireArtifacts(t *testing.T) {
	t.Helper()
	e.clock.Advance(4000 * 24 * time.Hour)
	if err := e.app.Scheduler.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestEveryActionReachesTheAuditLog walks the route table: each state-changing route, called
// with a valid request, must write evidence; every evidence record then resolves to an audit
// log entry once the writer has run; and every registered action is produced by a route, a
// worker or an admin command here.
func TestEveryActionReachesTheAuditLog(t *testing.T) {
	e := newEnv(t)
	steps := map[string]coverageStep{}
	for _, s := range coverageSteps {
		steps[s.route] = s
	}
	for _, rt := range api.Routes() {
		if _, ok := steps[rt.Name]; rt.Method != http.MethodGet && !ok {
			t.Errorf("route %s (%s %s) changes state but has no step in coverageSteps", rt.Name, rt.Method, rt.Path)
		}
	}
	var st coverageState
	for _, s := range coverageSteps {
		if _, ok := api.FindRoute(s.route); !ok {
			t.Fatalf("coverage step for unknown route %s", s.route)
		}
		before := e.evidenceCount("acme")
		r := s.call(t, e, &st)
		if r.status < 200 || r.status > 299 {
			t.Fatalf("%s: %d %s", s.route, r.status, r.body)
		}
		if e.evidenceCount("acme") <= before {
			t.Errorf("%s changed state but wrote no evidence", s.route)
		}
	}
	// Admin commands (CLI) that are not routes.
	_, tokenRef, err := e.app.Tokens.Issue(context.Background(), "acme", auth.ReportOperator, "tenant_admin")
	if err == nil {
		err = e.app.Tokens.Revoke(context.Background(), "acme", tokenRef, "tenant_admin")
	}
	if err != nil {
		t.Fatal(err)
	}
	// The presigned download server is the worker that refuses damaged bytes.
	e.refuseDamagedDownload(t, st.artifacts[0])
	poller := e.app.Audit.NewPoller(e.app.Items, "coverage", time.Second)
	if _, err := poller.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	produced := map[evidence.Action]bool{}
	for _, tenant := range []string{"acme", "globex"} {
		for _, rec := range e.evidenceRecords(t, tenant) {
			produced[rec.Action] = true
			if _, err := e.app.Audit.EntryOf(context.Background(), tenant, rec.Ref); err != nil {
				t.Errorf("%s (%s) does not resolve to an audit log entry: %v", rec.Ref, rec.Action, err)
			}
		}
	}
	for _, a := range evidence.Registered() {
		if !produced[a] {
			t.Errorf("registered action %s was produced by no route, worker or admin command: add a step that produces it", a)
		}
	}
	e.checkProofRoute(t)
}

// refuseDamagedDownload damages a stored artifact behind a presigned link and fetches it:
// the download is refused with artifact.integrity_failed.
func (e *env) refuseDamagedDownload(t *testing.T, artifactRef string) {
	t.Helper()
	rec, err := e.app.Artifacts.Get(context.Background(), "acme", artifactRef)
	if err != nil {
		t.Fatal(err)
	}
	link, err := e.app.Objects.PresignGet(context.Background(), rec.ObjectKey, rec.VersionID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.damageObject(t, rec.ObjectKey, rec.VersionID)
	requireError(t, e.download(t, link), 409, "integrity_failure", "artifact")
}

// checkProofRoute seals acme's log and checks a proof served by the route offline.
func (e *env) checkProofRoute(t *testing.T) {
	if _, err := e.app.Audit.Seal(context.Background(), "acme", true); err != nil {
		t.Fatal(err)
	}
	recs := e.evidenceRecords(t, "acme")
	ref := recs[len(recs)-1].Ref
	path := "/enterprise/aispm/reports/evidence/" + ref + "/proof"
	r := e.call("GET", path, e.as("acme", auth.AuditorViewer), nil, nil)
	if r.status != 200 {
		t.Fatalf("proof: %d %s", r.status, r.body)
	}
	pub, _ := e.app.Signer.PublicKey(context.Background())
	file := filepath.Join(t.TempDir(), "proof.json")
	os.WriteFile(file, r.body, 0o644)
	if res, err := auditlog.VerifyProof(r.body, pub); err != nil || res.EvidenceRef != ref {
		t.Fatalf("served proof does not verify: %v %+v", err, res)
	}
	requireError(t, e.call("GET", path, e.as("globex", auth.AuditorViewer), nil, nil), 404, "unknown_evidence", "evidence_ref")
	requireError(t, e.call("GET", path, e.as("acme", auth.ReportOperator), nil, nil), 403, "forbidden", "")
	requireError(t, e.call("GET", "/enterprise/aispm/reports/evidence/nope/proof", e.as("acme", auth.TenantAdmin), nil, nil), 400, "invalid_field", "evidence_ref")
}

func (e *env) evidenceRecords(t *testing.T, tenant string) []evidence.Record {
	t.Helper()
	var out []evidence.Record
	q := itemstore.Query{PK: evidence.PartitionKey(tenant), Limit: 1000}
	for {
		page, err := e.app.Items.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var rec evidence.Record
			if err := json.Unmarshal(it.Data, &rec); err != nil {
				t.Fatal(err)
			}
			out = append(out, rec)
		}
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
}
