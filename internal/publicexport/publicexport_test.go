package publicexport

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// contractsDir is the public contracts folder beside the project (../shared/contracts).
var contractsDir = filepath.Join("..", "..", "..", "shared", "contracts", "cavra-public")

func requireContracts(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(contractsDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("public contracts not found at %s", contractsDir)
		}
		t.Skipf("public contracts not found at %s (clone outside the workspace)", contractsDir)
	}
}

func validate(t *testing.T, name string, raw []byte) {
	t.Helper()
	requireContracts(t)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(filepath.Join(contractsDir, "aispm-report-"+name+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("%s does not validate: %v\n%s", name, err, raw)
	}
}

func TestPublicContractsMatchTheSchemaFolder(t *testing.T) {
	requireContracts(t)
	files, err := filepath.Glob(filepath.Join(contractsDir, "aispm-report-*.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "aispm-report-"), ".schema.json"))
	}
	slices.Sort(want)
	if got := slices.Sorted(slices.Values(PublicContracts)); !slices.Equal(got, want) {
		t.Fatalf("PublicContracts %v\nschema folder %v", got, want)
	}
	for _, name := range Contracts {
		if !slices.Contains(PublicContracts, name) {
			t.Errorf("built contract %s is no public contract", name)
		}
	}
}

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// emptyState is a tenant that has done nothing yet, on a deployment serving every endpoint
// the delivery contract names.
func emptyState() State {
	served := []string{}
	for _, e := range contractEndpoints {
		served = append(served, e.endpoint)
	}
	return State{
		Tenant: tenancy.Tenant{ID: "acme", DisplayName: "Acme", Edition: tenancy.Enterprise}, Settings: settings.Defaults("Acme"),
		Now: testNow, Served: served, SigningKeyID: "key-1",
		Package:    func() (manifest.Record, error) { return manifest.Record{}, manifest.ErrNotFound },
		Artifacts:  func() ([]artifacts.Record, error) { return nil, nil },
		Search:     func() (*search.QueryRecord, *search.RetrievalRecord, error) { return nil, nil, nil },
		AuditStart: func() (string, error) { return "", nil },
		RecipientPolicy: func() (delivery.StoredPolicy, error) {
			return delivery.StoredPolicy{Policy: delivery.DefaultPolicy()}, nil
		},
		Deliveries: func() ([]delivery.Record, error) { return nil, nil },
		Delivery:   func(string) (delivery.Record, error) { return delivery.Record{}, errors.New("no such delivery") },
		Schedule: func() (reportschedule.View, []reportschedule.Run, error) {
			return reportschedule.View{}, nil, reportschedule.ErrNotFound
		},
		Checkpoint: func() (*audit.Checkpointed, error) { return nil, nil },
	}
}

// withArtifact adds one retained artifact and the evidence log it started.
func withArtifact(s State) State {
	s.Artifacts = func() ([]artifacts.Record, error) {
		return []artifacts.Record{{ArtifactRef: "artifact:art_1", ReportID: "agent_risk_register", ObjectKey: "tenants/acme/artifacts/art_1.csv",
			VersionID: "v1", RetainUntil: "2027-11-28T12:00:00Z", State: artifacts.Retained, CreatedAt: "2026-11-28T11:00:00Z",
			LastEvidenceRef: "evidence:ev_1"}}, nil
	}
	s.AuditStart = func() (string, error) { return "2026-11-28T10:00:00Z", nil }
	return s
}

// gated is an email send that needed approval, recorded with reasons and a provider mode,
// then denied.
func gated(mode string, reasons ...string) delivery.Record {
	return delivery.Record{DeliveryRef: "delivery:dlv_1", Channel: delivery.Email, ProviderMode: mode,
		SubjectDigest: "sha256:" + strings.Repeat("a", 64),
		ReportID:      "agent_risk_register", Format: "csv", ImmutableStoreRef: "worm:tenants/acme/artifacts/art_1.csv#v1", Status: delivery.StatusDenied,
		Decision:   delivery.Decision{Outcome: delivery.RequireApproval, Reasons: reasons},
		Recipients: []string{"cfo@unknown.example"}, RequesterRole: "report_operator", RequestDigest: "sha256:" + strings.Repeat("b", 64),
		ApprovalRef: "approval:dlv_1", ApprovalExpiresAt: "2026-12-01T11:00:00Z",
		Approval: &delivery.Approval{ApprovalRef: "approval:dlv_1", Decision: "denied", ApproverRole: "approver",
			BoundDigest: "sha256:" + strings.Repeat("a", 64), DecidedAt: "2026-11-28T11:30:00Z", EvidenceRef: "evidence:ev_3"},
		History:      []delivery.StatusEntry{{Status: delivery.StatusDenied, At: "2026-11-28T11:30:00Z", EvidenceRef: "evidence:ev_3"}},
		EvidenceRefs: []string{"evidence:ev_2", "evidence:ev_3"}, CreatedAt: "2026-11-28T11:00:00Z", UpdatedAt: "2026-11-28T11:30:00Z"}
}

func withDeliveries(s State, recs ...delivery.Record) State {
	s.Deliveries = func() ([]delivery.Record, error) { return recs, nil }
	return s
}

// requireNotReady checks the export is refused 409 export_not_ready naming message.
func requireNotReady(t *testing.T, name string, s State, message string) {
	t.Helper()
	_, err := Build(name, s)
	p, ok := problem.As(err)
	if !ok || p.Kind != problem.Conflict || p.Code != "export_not_ready" || !strings.Contains(p.Message, message) {
		t.Fatalf("%s: %v, want 409 export_not_ready naming %q", name, err, message)
	}
}

func build(t *testing.T, name string, s State) map[string]any {
	t.Helper()
	raw, err := Build(name, s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	validate(t, name, raw)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDeliveryContractNamesOnlyServedEndpoints(t *testing.T) {
	s := emptyState()
	s.Served = slices.DeleteFunc(slices.Clone(s.Served), func(e string) bool { return e == "POST /enterprise/aispm/reports/schedules" })
	requireNotReady(t, "delivery-contract", s, "the schedules endpoint POST /enterprise/aispm/reports/schedules is not served yet")

	// Served, the packet validates and its required settings follow the tenant's mode.
	required := func(s State) []any {
		return build(t, "delivery-contract", s)["setup"].(map[string]any)["required_settings"].([]any)
	}
	s = emptyState()
	if slices.Contains(required(s), any("CAVRA_REPORT_PROVIDER_CREDENTIAL_REF")) {
		t.Fatal("delivery disabled, yet the credential reference is required")
	}
	s.Settings.DeliveryProvider.Mode = "smtp"
	if !slices.Contains(required(s), any("CAVRA_REPORT_PROVIDER_CREDENTIAL_REF")) {
		t.Fatal("smtp does not require the credential reference")
	}
}

func TestPackageManifestWithoutPackageIsNotReady(t *testing.T) {
	s := emptyState()
	requireNotReady(t, "export-package-manifest", s, "the tenant has signed no package yet")
	s.PackageRef = "package:pkg_unknown"
	if _, err := Build("export-package-manifest", s); !errors.Is(err, manifest.ErrNotFound) {
		t.Fatalf("a named unknown package: %v, want package_not_found", err)
	}
}

func TestRetentionLifecycleClaimsOnlyTheSealedLog(t *testing.T) {
	s := withArtifact(emptyState())
	got := build(t, "retention-lifecycle", s)
	archive := got["audit_export_lifecycle"].(map[string]any)
	if archive["export_ref"] != "audit_export:none" || archive["object_lock"] != "requires_cavra_enterprise" ||
		archive["kms_key_ref"] != "signing_key:none" || archive["archive_state"] != "pending" {
		t.Fatalf("nothing sealed, yet the archive claims %v", archive)
	}
	if ref := got["evidence"].(map[string]any)["chain_ref"]; ref != "chain:none" {
		t.Fatalf("chain_ref %v without a checkpoint", ref)
	}

	hash := "sha256:" + strings.Repeat("c", 64)
	s.Checkpoint = func() (*audit.Checkpointed, error) {
		return &audit.Checkpointed{Key: "tenants/acme/audit/checkpoints/00000000000000000012.json", Hash: hash}, nil
	}
	got = build(t, "retention-lifecycle", s)
	archive = got["audit_export_lifecycle"].(map[string]any)
	if archive["export_ref"] != "worm:tenants/acme/audit/checkpoints/00000000000000000012.json" || archive["object_lock"] != "enabled" ||
		archive["kms_key_ref"] != "signing_key:key-1" || archive["archive_state"] != "archived" {
		t.Fatalf("sealed archive: %v", archive)
	}
	if ref := got["evidence"].(map[string]any)["chain_ref"]; ref != "chain:"+hash {
		t.Fatalf("chain_ref %v, want the latest checkpoint", ref)
	}
	s.SigningKeyID = ""
	requireNotReady(t, "retention-lifecycle", s, "no signing key is configured")
}

func TestDeliveryModeIsTheRecordedOne(t *testing.T) {
	s := withDeliveries(emptyState(), gated("ses", "external_recipient"))
	s.Settings.DeliveryProvider.Mode = "smtp" // changed after the send
	if mode := build(t, "approval-decision", s)["subject"].(map[string]any)["delivery_mode"]; mode != "ses" {
		t.Fatalf("approval-decision delivery_mode %v, want the recorded ses", mode)
	}
	if mode := build(t, "delivery-audit-event", s)["audit_event"].(map[string]any)["delivery_mode"]; mode != "ses" {
		t.Fatalf("delivery-audit-event delivery_mode %v, want the recorded ses", mode)
	}
	old := withDeliveries(emptyState(), gated("", "external_recipient"))
	for _, name := range []string{"approval-decision", "delivery-audit-event"} {
		requireNotReady(t, name, old, "the delivery was recorded before deliveries kept their provider mode")
	}
}

func TestRecipientScopeIsTheRecordedEvaluation(t *testing.T) {
	unknown := withDeliveries(emptyState(), gated("ses", "domain_not_in_policy", "external_recipient"))
	requireNotReady(t, "approval-decision", unknown, "a domain without a rule in the recipient policy")
	for reasons, want := range map[string]string{"external_recipient": "approved_external_domain", "": "approved_internal_domain"} {
		s := withDeliveries(emptyState(), gated("ses", strings.Fields(reasons)...))
		got := build(t, "approval-decision", s)
		if scope := got["subject"].(map[string]any)["recipient_scope"]; scope != want {
			t.Errorf("reasons %q: recipient_scope %v, want %s", reasons, scope, want)
		}
	}
}

// TestReadinessAgreesWithTheExports builds every public contract from a few states: the
// view calls a contract ready exactly when its export succeeds, and names the conditions of
// a refusal.
func TestReadinessAgreesWithTheExports(t *testing.T) {
	states := map[string]State{
		"empty":     emptyState(),
		"artifact":  withArtifact(emptyState()),
		"approval":  withDeliveries(withArtifact(emptyState()), gated("ses", "external_recipient")),
		"no-routes": func() State { s := emptyState(); s.Served = nil; return s }(),
		"schedule":  withSchedule(emptyState(), testSchedule(), nil),
	}
	for label, s := range states {
		v, err := ReadinessOf(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Exports) != len(PublicContracts) {
			t.Fatalf("%s: %d exports in the view, want %d", label, len(v.Exports), len(PublicContracts))
		}
		for _, r := range v.Exports {
			_, err := Build(r.Name, s)
			if r.Ready != (err == nil) {
				t.Errorf("%s: %s ready %v, export error %v", label, r.Name, r.Ready, err)
			}
			for _, c := range r.Unmet {
				if p, ok := problem.As(err); !ok || !strings.Contains(p.Message, c.Message) || c.Code == "" {
					t.Errorf("%s: %s condition %v is not what the export names: %v", label, r.Name, c, err)
				}
			}
			if !slices.Contains(Contracts, r.Name) && (r.Ready || len(r.Unmet) != 1 || r.Unmet[0].Code != "not_implemented") {
				t.Errorf("%s: %s is not built, yet the view says %+v", label, r.Name, r)
			}
		}
	}
}
