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
	field     string // "envelopes[3]", "lines[3]" or "" for a single envelope
	key       string // idempotency key
	keyField  string // where the key came from, for a refusal
	eventID   string
	at        time.Time
	line      []byte // canonical JSON, the bytes stored in the segment
	digest    string // of the event's content: equal for every delivery of one event
	isBatch   bool
	duplicate bool
}

// Parse validates a JSON request body: one envelope or {"envelopes": [...]}, each the
// public envelope or the product's own (legacy) shape. tenantID is the caller's tenant.
// Nothing is accepted unless everything is valid.
func Parse(body []byte, tenantID string, now time.Time) ([]parsed, error) {
	obj, err := schemas.DecodeBody(body)
	if err != nil {
		return nil, err
	}
	raw, isBatch := obj["envelopes"]
	if !isBatch {
		p, err := parseOne(obj, "", tenantID, now)
		if err != nil {
			return nil, err
		}
		return []parsed{p}, nil
	}
	list, err := batchItems(obj, raw)
	if err != nil {
		return nil, err
	}
	fields := make([]string, len(list))
	for i := range list {
		fields[i] = fmt.Sprintf("envelopes[%d]", i)
	}
	return parseAll(list, fields, tenantID, now)
}

// ParseNDJSON validates an application/x-ndjson body: one envelope a line (blank lines
// ignored), 1 to MaxBatch of them. A refusal names the line as lines[<0-based line index>].
func ParseNDJSON(body []byte, tenantID string, now time.Time) ([]parsed, error) {
	var docs []any
	var fields []string
	for i, ln := range bytes.Split(body, []byte{'\n'}) {
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		if len(docs) == MaxBatch {
			return nil, problem.New(problem.Invalid, "batch_size", "", fmt.Sprintf("a stream holds 1 to %d envelopes", MaxBatch))
		}
		field := fmt.Sprintf("lines[%d]", i)
		doc, err := schemas.DecodeLine(ln, field)
		if err != nil {
			return nil, err
		}
		docs, fields = append(docs, doc), append(fields, field)
	}
	if len(docs) == 0 {
		return nil, problem.New(problem.Invalid, "batch_size", "", fmt.Sprintf("a stream holds 1 to %d envelopes", MaxBatch))
	}
	return parseAll(docs, fields, tenantID, now)
}

// parseAll parses the envelopes of a batch or stream; fields[i] names envelope i in a refusal.
func parseAll(docs []any, fields []string, tenantID string, now time.Time) ([]parsed, error) {
	out := make([]parsed, 0, len(docs))
	for i, doc := range docs {
		p, err := parseOne(doc, fields[i], tenantID, now)
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

// parseOne dispatches on schema_version: the public envelope, or the product's own shape.
func parseOne(doc any, field, tenantID string, now time.Time) (parsed, error) {
	obj, ok := doc.(map[string]any)
	if !ok {
		return parsed{}, problem.New(problem.Invalid, "schema_violation", field, "an envelope is a JSON object")
	}
	switch v, _ := obj["schema_version"].(string); v {
	case PublicSchemaVersion:
		return parsePublic(obj, field, tenantID, now)
	case EnvelopeSchemaVersion:
		return parseLegacy(doc, field, now)
	}
	return parsed{}, problem.New(problem.Invalid, "schema_violation", joinField(field, "schema_version"),
		"must be "+PublicSchemaVersion+" (or the legacy "+EnvelopeSchemaVersion+")")
}

func parsePublic(doc map[string]any, field, tenantID string, now time.Time) (parsed, error) {
	if err := refuseRawContent(doc, field); err != nil {
		return parsed{}, err
	}
	if err := schemas.Validate(schemas.LiveEnvelope, field, doc); err != nil {
		return parsed{}, err
	}
	if err := refuseSensitive(doc, field); err != nil {
		return parsed{}, err
	}
	env, err := publicFromDoc(doc)
	if err != nil {
		return parsed{}, problem.New(problem.Invalid, "schema_violation", field, "envelope does not match its schema")
	}
	if err := checkPublic(&env, field, tenantID); err != nil {
		return parsed{}, err
	}
	at, err := eventTime(env.Event.OccurredAt, field, now)
	if err != nil {
		return parsed{}, err
	}
	content, err := encodeCanonical(env.contentView())
	if err != nil {
		return parsed{}, err
	}
	stampReceived(&env, now)
	line, err := encodeCanonical(env)
	if err != nil {
		return parsed{}, err
	}
	return parsed{field: field, key: env.idempotencyKey(), keyField: env.idempotencyKeyField(), eventID: env.Event.EventID, at: at, line: line, digest: canonjson.Digest(content)}, nil
}

func parseLegacy(doc any, field string, now time.Time) (parsed, error) {
	if err := schemas.Validate(schemas.IngestEnvelope, field, doc); err != nil {
		return parsed{}, err
	}
	if err := refuseSensitive(doc, field); err != nil {
		return parsed{}, err
	}
	var env Envelope
	if err := decodeStrict(doc, &env); err != nil {
		return parsed{}, problem.New(problem.Invalid, "schema_violation", field, "envelope does not match its schema")
	}
	at, err := eventTime(env.Event.OccurredAt, field, now)
	if err != nil {
		return parsed{}, err
	}
	line, err := canonjson.Marshal(env)
	if err != nil {
		return parsed{}, err
	}
	return parsed{field: field, key: env.IdempotencyKey, keyField: "idempotency_key", eventID: env.Event.EventID, at: at, line: line, digest: canonjson.Digest(line)}, nil
}

// decodeStrict turns a schema-valid document into its struct, refusing unknown fields.
func decodeStrict(doc any, into any) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

func eventTime(occurredAt, field string, now time.Time) (time.Time, error) {
	at, err := time.Parse(time.RFC3339Nano, occurredAt)
	if err != nil {
		return time.Time{}, problem.InvalidField(joinField(field, "$.event.occurred_at"), "must be an RFC 3339 timestamp")
	}
	if at.After(now.Add(maxFutureSkew)) {
		return time.Time{}, problem.InvalidField(joinField(field, "$.event.occurred_at"), "is more than 24 hours in the future")
	}
	return at.UTC(), nil
}

func refuseSensitive(doc any, field string) error {
	if f, found := sensitive(doc); found {
		return problem.New(problem.Invalid, "sensitive_content_refused", joinField(field, f.Path),
			"envelopes carry metadata only: "+strings.ReplaceAll(f.Kind, "_", " ")+" is not accepted")
	}
	return nil
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

// versionFields hold software versions: a four-part version number only looks like an IPv4
// address there.
var versionFields = map[string]bool{
	"$.source.agent_version": true, "$.source.runtime_version": true, "$.source.collector_version": true,
}

// sensitive returns the first finding of the redaction scanner over a decoded envelope.
func sensitive(doc any) (evidence.Finding, bool) {
	for _, f := range evidence.ScanValue(doc) {
		if f.Kind == "ip_address" && versionFields[f.Path] {
			continue
		}
		return f, true
	}
	return evidence.Finding{}, false
}
