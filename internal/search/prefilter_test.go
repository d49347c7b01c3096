package search

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// TestPrefilterNeverDropsAMatch stores every combination of report, format, class and
// stored state (before and after retain-until) and checks, for each request and role, that
// no record the full match accepts is excluded by the prefilter, and that it does exclude.
func TestPrefilterNeverDropsAMatch(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var recs []artifacts.Record
	for _, report := range []string{"executive_risk_brief", "agent_risk_register", "pdf_board_pack"} {
		for _, format := range []string{"json", "pdf", "zip"} {
			for _, class := range []string{artifacts.OperationalRecord, artifacts.GovernanceRecord, artifacts.LegalHoldClass} {
				for _, state := range artifacts.States {
					for _, until := range []time.Time{now.Add(-time.Hour), now.Add(time.Hour)} {
						recs = append(recs, artifacts.Record{ArtifactRef: "artifact:art_x", ReportID: report, Format: format,
							RetentionClass: class, State: state, RetainUntil: until.Format(time.RFC3339Nano), LegalHoldRef: "case:a"})
					}
				}
			}
		}
	}
	bodies := []string{`{}`, `{"report_ids":["pdf_board_pack","agent_risk_register"]}`, `{"formats":["pdf"]}`,
		`{"lifecycle_states":["legal_hold","pending_approval"]}`, `{"mode":"legal_hold_only","formats":["zip","json"]}`,
		`{"mode":"include_expired_metadata","lifecycle_states":["expired"]}`, `{"mode":"include_expired_metadata","lifecycle_states":["deleted","retained"]}`}
	excluded := 0
	for _, body := range bodies {
		req, err := ParseRequest([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"tenant_admin", "approver", "auditor_viewer"} {
			scope := ScopeFor(role)
			pre := req.prefilter(scope)
			for _, rec := range recs {
				data, err := json.Marshal(rec)
				if err != nil {
					t.Fatal(err)
				}
				decoded, err := artifacts.Decode(itemstore.Item{Data: data})
				if err != nil {
					t.Fatal(err)
				}
				_, ok := match(decoded, req, scope, now)
				if pre.excludes(data) {
					excluded++
					if ok {
						t.Fatalf("%s as %s: prefilter drops a match %s", body, role, fmt.Sprint(rec))
					}
				}
			}
		}
	}
	if excluded == 0 {
		t.Fatal("the prefilter excluded nothing")
	}
}
