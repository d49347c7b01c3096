package openapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/schemas"
	openapidoc "github.com/cavra-enterprise/aispm-reports/schemas/openapi"
)

func generate(t *testing.T) []byte {
	t.Helper()
	doc, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// decode parses JSON keeping numbers as written, as the generator reads the schema files.
func decode(t *testing.T, raw []byte) object {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v object
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDocumentIsValidOpenAPI31 parses the document with libopenapi, validates it against the
// OpenAPI 3.1 specification's schema and builds its model, which resolves every $ref.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc, err := libopenapi.NewDocument(generate(t))
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, s := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", s.FieldPath, s.Reason)
			}
		}
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("model: %v", err)
	}
}

// TestGenerationIsDeterministic: the same inputs give the same bytes, and the document the
// get-openapi function embeds is a fresh generation (go test ./examples -update rewrites it).
func TestGenerationIsDeterministic(t *testing.T) {
	first := generate(t)
	if !bytes.Equal(first, generate(t)) {
		t.Fatal("two generations differ")
	}
	if !bytes.Equal(openapidoc.Document, first) {
		t.Fatal("schemas/openapi/openapi.json is stale: run go test ./examples -update")
	}
}

// TestDocumentFollowsTheRouteTable: each route is one operation with its name, method, path
// and query parameters, roles, body limit, bearer security, media types and error body, and the
// document has no operation the route table lacks.
func TestDocumentFollowsTheRouteTable(t *testing.T) {
	doc := decode(t, generate(t))
	paths := doc["paths"].(object)
	ops := 0
	for _, item := range paths {
		ops += len(item.(object))
	}
	if ops != len(api.Routes()) {
		t.Errorf("%d operations for %d routes", ops, len(api.Routes()))
	}
	for _, r := range api.Routes() {
		item, _ := paths[r.Path].(object)
		op, ok := item[strings.ToLower(r.Method)].(object)
		if !ok {
			t.Errorf("%s: no operation %s %s", r.Name, r.Method, r.Path)
			continue
		}
		checkOperation(t, r, op)
	}
	scheme := doc["components"].(object)["securitySchemes"].(object)[bearer].(object)
	if scheme["type"] != "http" || scheme["scheme"] != "bearer" {
		t.Errorf("security scheme %v, want HTTP bearer", scheme)
	}
}

func checkOperation(t *testing.T, r api.Route, op object) {
	t.Helper()
	var roles []string
	for _, role := range r.Roles {
		roles = append(roles, string(role))
	}
	want := object{
		"operationId": r.Name,
		extRoles:      strings.Join(roles, ","),
		extMaxBody:    strconv.FormatInt(r.BodyLimit(), 10),
		"parameters":  strings.Join(append(braced(r.Path), r.Query...), ","),
		"security":    bearer,
		"mediaTypes":  "",
		"errors":      "#/components/responses/Error #/components/responses/Error",
	}
	if r.TakesBody() {
		want["mediaTypes"] = strings.Join(slices.Sorted(slices.Values(r.MediaTypes())), ",")
	}
	got := object{
		"operationId": op["operationId"],
		extRoles:      joined(op[extRoles], ""),
		extMaxBody:    string(op[extMaxBody].(json.Number)),
		"parameters":  joined(op["parameters"], "name"),
		"security":    strings.Join(slices.Sorted(maps.Keys(op["security"].([]any)[0].(object))), ","),
		"mediaTypes":  mediaTypes(op),
		"errors":      errorRefs(op),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: operation\n got %v\nwant %v", r.Name, got, want)
	}
}

// braced lists the {name} segments of a route path.
func braced(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, seg[1:len(seg)-1])
		}
	}
	return out
}

// joined lists a JSON array's strings, or each element's field, comma-separated.
func joined(v any, field string) string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if field != "" {
			e = e.(object)[field]
		}
		out = append(out, e.(string))
	}
	return strings.Join(out, ",")
}

// mediaTypes lists the request body's media types, sorted.
func mediaTypes(op object) string {
	body, ok := op["requestBody"].(object)
	if !ok {
		return ""
	}
	return strings.Join(slices.Sorted(maps.Keys(body["content"].(object))), ",")
}

func errorRefs(op object) string {
	resp := op["responses"].(object)
	return resp["4XX"].(object)["$ref"].(string) + " " + resp["5XX"].(object)["$ref"].(string)
}

// TestEveryReferenceResolves follows every $ref of the document to a value in it.
func TestEveryReferenceResolves(t *testing.T) {
	doc := decode(t, generate(t))
	n := 0
	eachRef(doc, func(ref string) {
		n++
		if _, err := pointer(doc, ref); err != "" {
			t.Errorf("$ref %s: %s", ref, err)
		}
	})
	if n == 0 {
		t.Fatal("no $ref in the document")
	}
	errBody, _ := pointer(doc, "#/components/responses/Error/content/application~1json/schema/$ref")
	if errBody != schemaPrefix+"error" {
		t.Fatalf("error response schema %v", errBody)
	}
}

func eachRef(v any, fn func(string)) {
	switch x := v.(type) {
	case object:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				fn(s)
				continue
			}
			eachRef(c, fn)
		}
	case []any:
		for _, c := range x {
			eachRef(c, fn)
		}
	}
}

// pointer resolves a same-document reference ("#/a/b~1c").
func pointer(doc object, ref string) (any, string) {
	frag, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, "not a reference into the document"
	}
	var cur any = doc
	for _, tok := range strings.Split(frag, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(object)
		if !ok || m[tok] == nil {
			return nil, "nothing at " + tok
		}
		cur = m[tok]
	}
	return cur, ""
}

// TestComponentsAreTheSchemaFiles: components/schemas holds every file of schemas/ and
// nothing else, each equal to its file once $id and $schema are set aside and every $ref
// (relative to the file there, into the document here) names the same target.
func TestComponentsAreTheSchemaFiles(t *testing.T) {
	comps := decode(t, generate(t))["components"].(object)["schemas"].(object)
	if len(comps) != len(schemas.Names()) {
		t.Errorf("%d components for %d schema files", len(comps), len(schemas.Names()))
	}
	for _, name := range schemas.Names() {
		raw, err := schemas.Raw(name)
		if err != nil {
			t.Fatal(err)
		}
		file := decode(t, raw)
		delete(file, "$id")
		delete(file, "$schema")
		mapRefs(file, func(ref string) string {
			target, ptr, _ := strings.Cut(ref, "#")
			if target == "" {
				target = name
			}
			return target + "#" + ptr
		})
		comp, ok := comps[strings.TrimSuffix(name, ".schema.json")]
		if !ok {
			t.Errorf("%s is not under components/schemas", name)
			continue
		}
		mapRefs(comp, func(ref string) string {
			target, ptr, _ := strings.Cut(strings.TrimPrefix(ref, schemaPrefix), "/")
			if ptr != "" {
				ptr = "/" + ptr
			}
			return target + ".schema.json#" + ptr
		})
		if !reflect.DeepEqual(file, comp) {
			t.Errorf("component for %s differs from the file", name)
		}
	}
}

func mapRefs(v any, fn func(string) string) {
	switch x := v.(type) {
	case object:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				x[k] = fn(s)
				continue
			}
			mapRefs(c, fn)
		}
	case []any:
		for _, c := range x {
			mapRefs(c, fn)
		}
	}
}

// TestBodiesFollowTheRouteTable: a route that takes a body without an entry in bodies, or
// an entry for a route that is gone, stops the generation.
func TestBodiesFollowTheRouteTable(t *testing.T) {
	extra := append(api.Routes(), api.Route{Name: "post-unknown", Method: "POST", Path: "/x"})
	if _, err := build(extra); err == nil || !strings.Contains(err.Error(), "post-unknown") {
		t.Fatalf("a body route without an entry was accepted: %v", err)
	}
	var fewer []api.Route
	for _, r := range api.Routes() {
		if r.Name != "post-send" {
			fewer = append(fewer, r)
		}
	}
	if _, err := build(fewer); err == nil || !strings.Contains(err.Error(), "post-send") {
		t.Fatalf("an entry for no route was accepted: %v", err)
	}
}
