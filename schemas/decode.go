package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// maxDepth bounds how deeply a document may nest. The product's documents are a few levels
// deep; the bound keeps a body of four million "[" from costing as deep a recursion.
const maxDepth = 64

// bodyField names a whole request body in refusals.
const bodyField = "body"

// Decode reads exactly one JSON value into the form Validate expects (objects as
// map[string]any, numbers as json.Number), strictly: the bytes must be UTF-8 (encoding/json
// would silently replace bad bytes inside strings), nothing but white space may follow the
// value, and no object may name a member twice (decoders disagree on which duplicate wins,
// so one could validate one value while another stores the other). Refusals are problems;
// a duplicate member is named by its dotted path.
func Decode(raw []byte) (any, error) { return decode(raw, "") }

// DecodeBody reads a request body, which must be one JSON object: null, an array or a
// scalar is refused naming "body", as is anything Decode refuses.
func DecodeBody(body []byte) (map[string]any, error) { return decodeObject(body, "") }

// DecodeLine reads one document of a stream (an application/x-ndjson line), which must be a
// JSON object; refusals name it at (e.g. "lines[3]") and its members under it.
func DecodeLine(line []byte, at string) (map[string]any, error) { return decodeObject(line, at) }

// OrEmptyObject is the body of a route whose body is optional: none at all means {}. Only a
// body of zero bytes is "none"; null, white space or [] are still refused by DecodeBody.
func OrEmptyObject(body []byte) []byte {
	if len(body) == 0 {
		return []byte("{}")
	}
	return body
}

// EmptyObject accepts the body of a route that takes none but tolerates one: no bytes or
// {}. A member is refused naming it.
func EmptyObject(body []byte) error {
	doc, err := DecodeBody(OrEmptyObject(body))
	if err != nil {
		return err
	}
	for k := range doc {
		return problem.New(problem.Invalid, "schema_violation", k, "unknown field")
	}
	return nil
}

// DecodeValid reads a request body (DecodeBody), validates it against schema name and then
// decodes it into into, refusing unknown fields. Refusals are problems naming the field.
func DecodeValid(name string, body []byte, into any) error {
	doc, err := DecodeBody(body)
	if err != nil {
		return err
	}
	if err := Validate(name, "", doc); err != nil {
		return err
	}
	return DecodeInto(body, into)
}

// DecodeInto decodes a body that DecodeBody read and a schema admitted into its struct,
// refusing unknown fields; a value too large for its Go type is named by its field.
func DecodeInto(body []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(into)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return problem.New(problem.Invalid, "schema_violation", typeErr.Field, "is out of range for its type")
	}
	return problem.New(problem.Invalid, "malformed_json", bodyField, "request body does not match its schema")
}

func decodeObject(raw []byte, at string) (map[string]any, error) {
	doc, err := decode(raw, at)
	if err != nil {
		return nil, err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, problem.New(problem.Invalid, "schema_violation", rootName(at), "must be a JSON object")
	}
	return obj, nil
}

func decode(raw []byte, at string) (any, error) {
	if !utf8.Valid(raw) {
		return nil, malformed(at, "is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	r := reader{dec: dec, root: at}
	v, err := r.value(at, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed(at, "holds more than one JSON value")
	}
	return v, nil
}

// reader builds a document token by token, so it sees every member name an object repeats.
type reader struct {
	dec  *json.Decoder
	root string
}

func (r reader) value(at string, depth int) (any, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, malformed(r.root, "is not valid JSON")
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth == maxDepth {
		return nil, malformed(r.root, fmt.Sprintf("nests deeper than %d levels", maxDepth))
	}
	if delim == '[' {
		return r.array(at, depth+1)
	}
	return r.object(at, depth+1) // Token returns no closing delimiter where a value starts
}

func (r reader) array(at string, depth int) (any, error) {
	out := []any{}
	for r.dec.More() {
		v, err := r.value(at+"["+strconv.Itoa(len(out))+"]", depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, r.closing(']')
}

func (r reader) object(at string, depth int) (any, error) {
	out := map[string]any{}
	for r.dec.More() {
		tok, err := r.dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return nil, malformed(r.root, "is not valid JSON")
		}
		field := memberField(at, name)
		if _, dup := out[name]; dup {
			return nil, problem.New(problem.Invalid, "duplicate_field", field, "this member appears more than once in its object")
		}
		v, err := r.value(field, depth)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, r.closing('}')
}

func (r reader) closing(want json.Delim) error {
	tok, err := r.dec.Token()
	if err != nil || tok != want {
		return malformed(r.root, "is not valid JSON")
	}
	return nil
}

// memberField is the dotted path of member name under at (joinField would read a member
// named "3" as an array index).
func memberField(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func malformed(at, what string) error {
	name := "request body"
	if at != "" {
		name = "the document"
	}
	return problem.New(problem.Invalid, "malformed_json", rootName(at), name+" "+what)
}

func rootName(at string) string {
	if at == "" {
		return bodyField
	}
	return at
}
