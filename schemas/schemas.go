// Package schemas holds the project's own JSON Schemas (request bodies, stored records) and
// validates documents against them with format assertions on.
package schemas

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// Only *.schema.json: the generated API description lives in package schemas/openapi and is
// not a schema to compile.
//
//go:embed *.schema.json
var files embed.FS

// Names of the schemas the code validates against.
const (
	Settings       = "settings.schema.json"
	IngestEnvelope = "ingest-envelope.schema.json"
	LiveEnvelope   = "live-ingestion-envelope.schema.json"
	IngestRequest  = "ingest-request.schema.json"
	RenderRequest  = "render-request.schema.json"
	SearchRequest  = "search-request.schema.json"
	LegalHold      = "legal-hold-request.schema.json"
	PackageRequest = "package-request.schema.json"
	Policy         = "recipient-policy.schema.json"
	SendRequest    = "send-request.schema.json"
	Decision       = "approval-decision-request.schema.json"
	TokenRequest   = "token-request.schema.json"
	TokenRotate    = "token-rotate-request.schema.json"
	// ScheduleRequest is the body of POST .../schedules and PATCH .../schedules/{schedule}.
	ScheduleRequest = "schedule-request.schema.json"
	// TestDelivery is the body of POST .../settings/test-delivery.
	TestDelivery = "test-delivery-request.schema.json"
	// ErrorBody is the body of every 4xx/5xx answer (api.ErrorBody).
	ErrorBody = "error.schema.json"
)

// RefFormat is the format of every field that holds a ref: internal/ref.Check's rules
// (no ".", ".." or empty segment, backslash, percent sign or control character).
const RefFormat = "safe-ref"

func checkRef(v any) error {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil // a format asserts nothing about other types; emptiness is minLength's to refuse
	}
	return ref.Check(s)
}

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

func load() (map[string]*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		c.RegisterFormat(&jsonschema.Format{Name: RefFormat, Validate: checkRef})
		names, err := fs.Glob(files, "*.schema.json")
		if err != nil {
			compileErr = err
			return
		}
		for _, n := range names {
			raw, _ := files.ReadFile(n)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				compileErr = fmt.Errorf("schema %s: %w", n, err)
				return
			}
			if err := c.AddResource(n, doc); err != nil {
				compileErr = fmt.Errorf("schema %s: %w", n, err)
				return
			}
		}
		compiled = map[string]*jsonschema.Schema{}
		for _, n := range names {
			s, err := c.Compile(n)
			if err != nil {
				compileErr = fmt.Errorf("schema %s: %w", n, err)
				return
			}
			compiled[n] = s
		}
	})
	return compiled, compileErr
}

// Names lists every embedded schema.
func Names() []string {
	names, _ := fs.Glob(files, "*.schema.json")
	return names
}

// Raw returns a schema's file as committed (the OpenAPI generator embeds them).
func Raw(name string) ([]byte, error) { return files.ReadFile(name) }

// Validate checks a decoded JSON value (from jsonschema.UnmarshalJSON or encoding/json with
// UseNumber) against a schema. A refusal names the first failing field as a dotted path
// under prefix ("envelopes[3].event.severity") and never quotes the offending value.
func Validate(name, prefix string, doc any) error {
	all, err := load()
	if err != nil {
		return err
	}
	s, ok := all[name]
	if !ok {
		return fmt.Errorf("unknown schema %s", name)
	}
	err = s.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	leaf := deepest(ve)
	field := joinField(prefix, leaf.InstanceLocation)
	return problem.New(problem.Invalid, "schema_violation", field, describe(leaf))
}

// deepest follows the first cause down to the most specific failure.
func deepest(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}

func joinField(prefix string, loc []string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, tok := range loc {
		if isIndex(tok) {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
