package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// MaxBatch is the largest number of envelopes in one request.
const MaxBatch = 500

// maxFutureSkew refuses events stamped implausibly far ahead of the server clock.
const maxFutureSkew = 24 * time.Hour

// parsed is one validated envelope with its canonical bytes.
type parsed struct {
	index     int
	field     string // "envelopes[3]" or "" for a single envelope
	env       Envelope
	at        time.Time
	line      []byte // canonical JSON, the bytes stored in the segment
	digest    string
	isBatch   bool
	duplicate bool
}

// Parse validates a request body: one envelope or {"envelopes": [...]}. Nothing is accepted
// unless everything is valid.
func Parse(body []byte, now time.Time) ([]parsed, error) {
	doc, err := schemas.Decode(body)
	if err != nil {
		return nil, problem.New(problem.Invalid, "malformed_json", "", "request body is not valid JSON")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, problem.New(problem.Invalid, "schema_violation", "", "body must be a JSON object")
	}
	raw, isBatch := obj["envelopes"]
	if !isBatch {
		p, err := parseOne(obj, "", now)
		if err != nil {
			return nil, err
		}
		return []parsed{p}, nil
	}
	list, err := batchItems(obj, raw)
	if err != nil {
		return nil, err
	}
	out := make([]parsed, 0, len(list))
	for i, item := range list {
		p, err := parseOne(item, fmt.Sprintf("envelopes[%d]", i), now)
		if err != nil {
			return nil, err
		}
		p.index, p.isBatch = i, true
		out = append(out, p)
	}
	return out, nil
}

func batchItems(obj map[string]any, raw any) ([]any, error) {
	for k := range obj {
		if k != "envelopes" {
			return nil, problem.New(problem.Invalid, "schema_violation", k, "unknown field(s): "+k)
		}
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, problem.New(problem.Invalid, "schema_violation", "envelopes", "must be of type array")
	}
	if len(list) == 0 || len(list) > MaxBatch {
		return nil, problem.New(problem.Invalid, "batch_size", "envelopes", fmt.Sprintf("must hold 1 to %d envelopes", MaxBatch))
	}
	return list, nil
}

func parseOne(doc any, field string, now time.Time) (parsed, error) {
	if err := schemas.Validate(schemas.IngestEnvelope, field, doc); err != nil {
		return parsed{}, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return parsed{}, err
	}
	if f, found := sensitive(raw); found {
		return parsed{}, problem.New(problem.Invalid, "sensitive_content_refused", joinField(field, f.Path),
			"envelopes carry metadata only: "+strings.ReplaceAll(f.Kind, "_", " ")+" is not accepted")
	}
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return parsed{}, problem.New(problem.Invalid, "schema_violation", field, "envelope does not match its schema")
	}
	at, err := time.Parse(time.RFC3339Nano, env.Event.OccurredAt)
	if err != nil {
		return parsed{}, problem.InvalidField(joinField(field, "$.event.occurred_at"), "must be an RFC 3339 timestamp")
	}
	if at.After(now.Add(maxFutureSkew)) {
		return parsed{}, problem.InvalidField(joinField(field, "$.event.occurred_at"), "is more than 24 hours in the future")
	}
	line, err := canonjson.Marshal(env)
	if err != nil {
		return parsed{}, err
	}
	return parsed{field: field, env: env, at: at.UTC(), line: line, digest: canonjson.Digest(line)}, nil
}

// joinField turns a scanner path ("$.event.tool") into a request field under prefix.
func joinField(prefix, scanPath string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(scanPath, "$"), ".")
	switch {
	case prefix == "":
		return p
	case p == "":
		return prefix
	case strings.HasPrefix(p, "["):
		return prefix + p
	}
	return prefix + "." + p
}

// sensitive returns the first finding of the redaction scanner, except a four-part version
// number in agent_version, which only looks like an IPv4 address.
func sensitive(raw []byte) (evidence.Finding, bool) {
	for _, f := range evidence.ScanJSON(raw) {
		if f.Kind == "ip_address" && f.Path == "$.source.agent_version" {
			continue
		}
		return f, true
	}
	return evidence.Finding{}, false
}
