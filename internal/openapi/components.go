package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// schemaPrefix is where the document keeps the project's JSON Schemas.
const schemaPrefix = "#/components/schemas/"

// componentName is a schema file's key under components/schemas: the file name without
// ".schema.json" ("ingest-envelope"), a name generators turn into a type name.
func componentName(file string) string { return strings.TrimSuffix(file, ".schema.json") }

func ref(file string) object { return object{"$ref": schemaPrefix + componentName(file)} }

// components holds every schema of schemas/ (request bodies, the error body and the ones
// they reference), the shared error response and the security scheme.
func components() (object, error) {
	all := object{}
	for _, name := range schemas.Names() {
		s, err := component(name)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		all[componentName(name)] = s
	}
	return object{
		"schemas":         all,
		"responses":       object{"Error": errorResponse()},
		"securitySchemes": securitySchemes(),
	}, nil
}

// component is a schema file as an OpenAPI component. $schema goes (the document's
// jsonSchemaDialect is the same 2020-12), $id goes (it would make the $refs inside resolve
// against the file instead of the document), and every $ref is rewritten into the document.
func component(name string) (object, error) {
	raw, err := schemas.Raw(name)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // bounds stay as written, never reformatted through float64
	var s object
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	delete(s, "$schema")
	delete(s, "$id")
	return s, rewriteRefs(s, name)
}

// rewriteRefs points every $ref in v, written relative to file, into components/schemas.
func rewriteRefs(v any, file string) error {
	switch x := v.(type) {
	case object:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				r, err := resolve(s, file)
				if err != nil {
					return err
				}
				x[k] = r
				continue
			}
			if err := rewriteRefs(c, file); err != nil {
				return err
			}
		}
	case []any:
		for _, c := range x {
			if err := rewriteRefs(c, file); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve turns a reference relative to file ("#/$defs/x", "other.schema.json",
// "other.schema.json#/$defs/x") into its place in the document.
func resolve(ref, file string) (string, error) {
	target, pointer, _ := strings.Cut(ref, "#")
	if target == "" {
		target = file
	}
	if !slices.Contains(schemas.Names(), target) || (pointer != "" && !strings.HasPrefix(pointer, "/")) {
		return "", fmt.Errorf("$ref %q is neither a schema of schemas/ nor a JSON pointer into one", ref)
	}
	return schemaPrefix + componentName(target) + pointer, nil
}
