package evidence_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
)

// corpusEntry is one line of testdata/scan-corpus.txt: a string and what ScanString found
// in it when the corpus was recorded ("" for nothing).
type corpusEntry struct {
	s, kind string
}

func readCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	f, err := os.Open("testdata/scan-corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		kind, quoted, _ := strings.Cut(line, " ")
		s, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("scan-corpus.txt line %d: %v", n, err)
		}
		out = append(out, corpusEntry{s: s, kind: strings.TrimPrefix(kind, "-")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScanStringCorpus: the scanner finds exactly what it found when the corpus was recorded,
// and the corpus holds every kind and clean strings.
func TestScanStringCorpus(t *testing.T) {
	kinds := map[string]int{}
	for _, e := range readCorpus(t) {
		kinds[e.kind]++
		if got := evidence.ScanString(e.s); got != e.kind {
			t.Errorf("ScanString(%q) = %q, recorded %q", e.s, got, e.kind)
		}
	}
	for _, k := range []string{"", "email_address", "ip_address", "secret_value", "private_key", "forbidden_marker"} {
		if kinds[k] < 10 {
			t.Errorf("corpus holds %d strings of kind %q, want at least 10", kinds[k], k)
		}
	}
}

// The scanner as it was before its prefilter: every pattern run on every string. The fuzz
// test holds the scanner to it.
var (
	refEmail    = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	refIPv4     = regexp.MustCompile(`(^|[^0-9.])((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})($|[^0-9.])`)
	refIPv6     = regexp.MustCompile(`[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}`)
	refAssigned = regexp.MustCompile(`(?i)[A-Z0-9_]*(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY)\s*=\s*\S|\b(password|passwd|secret|api_?key|token)\s*:\s+\S`)
	refPrivate  = regexp.MustCompile(`-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----`)
	refKnown    = regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[abpr]-[A-Za-z0-9-]{10,}\b|\bsk_(live|test)_[A-Za-z0-9]{16,}\b|\baispm_[a-z0-9]{8,}_[A-Za-z0-9_-]{20,}\b`)
	refMarkers  = []string{"license_key", "package_token", "download_url", "raw_prompt_payload", "model_reasoning_payload",
		"raw_report_payload", "provider_response_payload", "customer_identity_payload"}
)

func referenceScan(s string) string {
	switch {
	case refPrivate.MatchString(s):
		return "private_key"
	case refKnown.MatchString(s), refAssigned.MatchString(s):
		return "secret_value"
	case refEmail.MatchString(s):
		return "email_address"
	case refIPv4.MatchString(s), referenceIPv6(s):
		return "ip_address"
	}
	lower := strings.ToLower(s)
	for _, k := range refMarkers {
		if strings.Contains(lower, k) {
			return "forbidden_marker"
		}
	}
	return ""
}

func referenceIPv6(s string) bool {
	for _, c := range refIPv6.FindAllString(s, -1) {
		if (strings.Contains(c, "::") || strings.Count(c, ":") == 7) && net.ParseIP(c) != nil {
			return true
		}
	}
	return false
}

// TestReferenceScanMatchesCorpus keeps the fuzz test's reference honest.
func TestReferenceScanMatchesCorpus(t *testing.T) {
	for _, e := range readCorpus(t) {
		if got := referenceScan(e.s); got != e.kind {
			t.Errorf("referenceScan(%q) = %q, recorded %q", e.s, got, e.kind)
		}
	}
}

// FuzzScanString: on any string the scanner finds what running every pattern finds.
func FuzzScanString(f *testing.F) {
	for _, e := range readCorpus(f) {
		f.Add(e.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := evidence.ScanString(s), referenceScan(s); got != want {
			t.Fatalf("ScanString(%q) = %q, every pattern run finds %q", s, got, want)
		}
	})
}

// BenchmarkScanValue: one decoded public live-ingestion envelope, keys and values.
func BenchmarkScanValue(b *testing.B) {
	var doc any
	if err := json.Unmarshal([]byte(benchEnvelope), &doc); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if f := evidence.ScanValue(doc); len(f) != 1 || f[0].Path != "$.source.runtime_version" {
			b.Fatalf("findings %v", f)
		}
	}
}

const benchEnvelope = `{"schema_version":"cavra.aispm.enterprise_live_ingestion_envelope.v1","product":"CAVRA","edition":"enterprise","contract_visibility":"public_contract",` +
	`"event":{"event_id":"evt-000007","event_type":"shell_command","occurred_at":"2026-11-28T07:07:00Z","received_at":"2020-01-01T00:00:00Z","session_id":"sess-0","agent_id":"agent-2",` +
	`"repository":"github.com/acme/api","actor_ref":"actor:1","tool_name":"bash","action_type":"exec","target_summary":"ran the unit tests",` +
	`"decision":"warn","severity":"low","risk_classification":"supply_chain","policy_pack":"baseline","evidence_refs":["evidence:ci-run-1"],"payload_ref":"payload:blob-7"},` +
	`"source":{"connector_type":"codex","connector_id":"conn-3","runtime_version":"1.2.3.4","collector_version":"0.9.1"},` +
	`"tenant":{"tenant_ref":"tenant:t1","environment":"production","region":"eu-west-1","data_residency_ref":"residency:eu"},` +
	`"redaction":{"payload_handling":"private_payload_ref","raw_prompt_included":false,"reasoning_included":false,"tool_output_included":false,"redaction_profile":"strict","private_payload_required":true},` +
	`"integrity":{"signature_required":true,"signature_ref":"sig:1","hash_algorithm":"sha256","payload_hash":"sha256:abababababababababababababababababababababababababababababababab","chain_ref":"chain:c1"},` +
	`"transport":{"ingress_mode":"https","delivery_semantics":"at_least_once","idempotency_key":"pub-key-000007","retry_count":0},` +
	`"enterprise_boundaries":{"collector_implementation":"requires_cavra_enterprise","tenant_persistence":"requires_cavra_enterprise","streaming_transport":"requires_cavra_enterprise","raw_payload_storage":"requires_cavra_enterprise","license_enforcement":"requires_cavra_enterprise"}}`
