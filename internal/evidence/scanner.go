package evidence

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/lazyregexp"
)

// Finding names what the scanner refused and where, never the offending value itself
// (echoing a leaked secret into an error or a log would leak it again).
type Finding struct {
	Path string // JSON path, e.g. "details.recipients[0]"
	Kind string // email_address, ip_address, secret_value, private_key, forbidden_marker
}

func (f Finding) Error() string {
	return fmt.Sprintf("%s found at %s", f.Kind, f.Path)
}

var (
	emailPattern   = lazyregexp.New(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	ipv4Pattern    = lazyregexp.New(`(^|[^0-9.])((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})($|[^0-9.])`)
	ipv6Candidate  = lazyregexp.New(`[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}`)
	assignedSecret = lazyregexp.New(`(?i)[A-Z0-9_]*(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY)\s*=\s*\S|\b(password|passwd|secret|api_?key|token)\s*:\s+\S`)
	privateKey     = lazyregexp.New(`-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----`)
	knownSecrets   = lazyregexp.New(`\b(AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[abpr]-[A-Za-z0-9-]{10,}\b|\bsk_(live|test)_[A-Za-z0-9]{16,}\b|\baispm_[a-z0-9]{8,}_[A-Za-z0-9_-]{20,}\b`)
)

// forbiddenMarkers may not appear anywhere, as a key or inside a value.
var forbiddenMarkers = []string{
	"license_key", "package_token", "download_url",
	"raw_prompt_payload", "model_reasoning_payload", "raw_report_payload",
	"provider_response_payload", "customer_identity_payload",
}

// forbiddenFields are keys that would carry raw content; as words inside a value they are fine.
var forbiddenFields = []string{"raw_prompt", "prompt", "model_reasoning", "reasoning", "tool_output", "completion"}

// ScanJSON walks a JSON document and returns every finding. An invalid document is itself
// a finding, so a caller cannot slip bytes past the scanner by breaking the JSON.
func ScanJSON(doc []byte) []Finding {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return []Finding{{Path: "$", Kind: "invalid_json"}}
	}
	var w walker
	w.walk(v)
	return w.out
}

// ScanValue walks an already decoded JSON value (maps, slices, strings) and returns every
// finding, without encoding it again.
func ScanValue(v any) []Finding {
	var w walker
	w.walk(v)
	return w.out
}

// ScanString returns the kind of sensitive content in s, or "". Each pattern runs only on a
// string that holds the characters every match of it needs (prefilter.go): running the
// regular expressions on every string cost far more than everything else the scanner does,
// and almost no string holds them.
func ScanString(s string) string {
	c := classesOf(s)
	switch {
	case mayHoldPrivateKey(s, c) && privateKey.MatchString(s):
		return "private_key"
	case mayHoldKnownSecret(s, c) && knownSecrets.MatchString(s), mayHoldAssignedSecret(s, c) && assignedSecret.MatchString(s):
		return "secret_value"
	case c.has(atSign) && emailPattern.MatchString(s):
		return "email_address"
	case mayHoldIPv4(s, c) && ipv4Pattern.MatchString(s), mayHoldIPv6(s, c) && hasIPv6(s):
		return "ip_address"
	}
	if mayHoldMarker(c) {
		lower := strings.ToLower(s)
		for _, k := range forbiddenMarkers {
			if strings.Contains(lower, k) {
				return "forbidden_marker"
			}
		}
	}
	return ""
}

func hasIPv6(s string) bool {
	for _, c := range ipv6Candidate.FindAllString(s, -1) {
		// Times such as 16:49:29 look like candidates; only a parseable address with either
		// "::" or all eight groups counts.
		if (strings.Contains(c, "::") || strings.Count(c, ":") == 7) && net.ParseIP(c) != nil {
			return true
		}
	}
	return false
}

// walker keeps the path to the current value as steps and spells it out only for a
// finding: most documents have none, and building every path cost more than scanning.
type walker struct {
	steps []step
	out   []Finding
}

// step is an object key, or an array index when index >= 0.
type step struct {
	key   string
	index int
}

func (w *walker) walk(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			w.steps = append(w.steps, step{key: k, index: -1})
			if kind := scanKey(k); kind != "" {
				w.find(kind)
			}
			w.walk(child)
			w.steps = w.steps[:len(w.steps)-1]
		}
	case []any:
		for i, child := range t {
			w.steps = append(w.steps, step{index: i})
			w.walk(child)
			w.steps = w.steps[:len(w.steps)-1]
		}
	case string:
		if kind := ScanString(t); kind != "" {
			w.find(kind)
		}
	}
}

func (w *walker) find(kind string) {
	w.out = append(w.out, Finding{Path: w.path(), Kind: kind})
}

// path is the JSON path of the current value, e.g. "$.details.recipients[0]".
func (w *walker) path() string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range w.steps {
		if s.index < 0 {
			b.WriteString("." + s.key)
			continue
		}
		fmt.Fprintf(&b, "[%d]", s.index)
	}
	return b.String()
}

func scanKey(k string) string {
	lower := strings.ToLower(k)
	for _, f := range forbiddenFields {
		if lower == f {
			return "forbidden_field"
		}
	}
	return ScanString(k)
}
