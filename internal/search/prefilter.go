package search

import (
	"bytes"
	"slices"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
)

// prefilter is a byte-level test on a stored artifact record that can only say "cannot
// match": records are stored as json.Marshal output, which writes every string field
// exactly as "key":"value", and the values looked for are catalog ids, format names and
// lifecycle states (no characters JSON escapes). A selective search thus skips most
// non-matching records without decoding them; every record that passes is decoded and
// matched in full, so the prefilter never changes a result, only the cost of a scan.
type prefilter [][][]byte // every group must have one of its needles in the record

func (r Request) prefilter(scope Scope) prefilter {
	var p prefilter
	add := func(key string, values ...string) {
		if len(values) == 0 {
			return
		}
		group := make([][]byte, len(values))
		for i, v := range values {
			group[i] = []byte(`"` + key + `":"` + v + `"`)
		}
		p = append(p, group)
	}
	add("report_id", r.ReportIDs...)
	add("format", r.Formats...)
	add("lifecycle_state", storedStates(r.LifecycleStates)...)
	if r.Mode == LegalHoldOnly {
		add("lifecycle_state", artifacts.LegalHold)
	}
	if scope.StoredState != "" {
		add("lifecycle_state", scope.StoredState)
	}
	return p
}

// storedStates lists the stored states whose effective state may be one of states: an
// artifact past its retain-until is expired before the expiry sweep records it.
func storedStates(states []string) []string {
	var out []string
	for _, s := range states {
		out = append(out, s)
		if s == artifacts.Expired {
			out = append(out, artifacts.Retained, artifacts.PendingApproval)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (p prefilter) excludes(data []byte) bool {
	for _, group := range p {
		if !slices.ContainsFunc(group, func(needle []byte) bool { return bytes.Contains(data, needle) }) {
			return true
		}
	}
	return false
}
