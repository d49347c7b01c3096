package schemas_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

func requireProblem(t *testing.T, err error, code, field string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Kind != problem.Invalid || p.Code != code || p.Field != field {
		t.Fatalf("got %v, want 400 %s naming %q", err, code, field)
	}
}

// TestDecodeBodyRefusesWhatEncodingJSONLetsThrough: every body here is one that
// json.Unmarshal takes (or silently rewrites), which is how null came to write evidence.
func TestDecodeBodyRefusesWhatEncodingJSONLetsThrough(t *testing.T) {
	for _, c := range []struct {
		name, body, code, field string
	}{
		{"null", `null`, "schema_violation", "body"},
		{"array", `[{}]`, "schema_violation", "body"},
		{"string", `"x"`, "schema_violation", "body"},
		{"number", `1e400`, "schema_violation", "body"},
		{"trailing value", `{} {}`, "malformed_json", "body"},
		{"trailing garbage", `{"a":1}x`, "malformed_json", "body"},
		{"trailing bracket", `{"a":1}}`, "malformed_json", "body"},
		{"bad utf-8 in a string", "{\"case_ref\":\"case:\xff\"}", "malformed_json", "body"},
		{"utf-16", "\xff\xfe{\x00}\x00", "malformed_json", "body"},
		{"duplicate member", `{"a":1,"a":2}`, "duplicate_field", "a"},
		{"duplicate by escape", `{"a":1,"\u0061":2}`, "duplicate_field", "a"},
		{"nested duplicate", `{"x":{"y":[{"z":1,"z":1}]}}`, "duplicate_field", "x.y[0].z"},
		{"numeric member name", `{"x":{"3":1,"3":2}}`, "duplicate_field", "x.3"},
		{"trailing comma in array", `{"a":[1,]}`, "malformed_json", "body"},
		{"trailing comma in object", `{"a":1,}`, "malformed_json", "body"},
		{"missing comma", `{"a":[1 2]}`, "malformed_json", "body"},
		{"truncated", `{"a":[1,`, "malformed_json", "body"},
		{"empty", ``, "malformed_json", "body"},
		{"white space only", " \n", "malformed_json", "body"},
		{"too deep", strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65), "malformed_json", "body"},
		{"deep array bomb", strings.Repeat("[", 1<<20), "malformed_json", "body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := schemas.DecodeBody([]byte(c.body))
			requireProblem(t, err, c.code, c.field)
		})
	}
}

func TestDecodeBodyReadsWhatEncodingJSONReads(t *testing.T) {
	body := `{"a":[1,2.5,"x",true,null,{"b":{}}],"c":"\u00e9","d":-0.0e10, "a2" : [] } ` + "\n"
	got, err := schemas.DecodeBody([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if want := stdDecode(t, []byte(body)); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	deep := strings.Repeat(`{"a":`, 63) + "1" + strings.Repeat("}", 63)
	if _, err := schemas.DecodeBody([]byte(deep)); err != nil {
		t.Fatalf("64 levels: %v", err)
	}
}

func TestDecodeLineNamesTheLine(t *testing.T) {
	_, err := schemas.DecodeLine([]byte(`null`), "lines[3]")
	requireProblem(t, err, "schema_violation", "lines[3]")
	_, err = schemas.DecodeLine([]byte(`{"event":{"a":1,"a":1}}`), "lines[3]")
	requireProblem(t, err, "duplicate_field", "lines[3].event.a")
	_, err = schemas.DecodeLine([]byte(`{"a":`), "lines[3]")
	requireProblem(t, err, "malformed_json", "lines[3]")
}

func TestOrEmptyObjectOnlyForNoBytes(t *testing.T) {
	if got := schemas.OrEmptyObject(nil); string(got) != "{}" {
		t.Fatalf("no body: %q", got)
	}
	if got := schemas.OrEmptyObject([]byte("null")); string(got) != "null" {
		t.Fatalf("null rewritten: %q", got)
	}
}

func TestDecodeValidNamesAnOutOfRangeNumber(t *testing.T) {
	var into struct {
		PageSize int `json:"page_size"`
	}
	err := schemas.DecodeValid(schemas.SearchRequest, []byte(`{"page_size":1e30}`), &into)
	if p, ok := problem.As(err); !ok || p.Kind != problem.Invalid || p.Field != "page_size" {
		t.Fatalf("got %v, want a 400 naming page_size", err)
	}
}

func TestRefFormatRefusesTraversal(t *testing.T) {
	for _, v := range []string{"case:..", "case:.", "case:a..b"} {
		body := `{"case_ref":"` + v + `"}`
		var into struct {
			CaseRef string `json:"case_ref"`
		}
		err := schemas.DecodeValid(schemas.LegalHold, []byte(body), &into)
		if v == "case:a..b" {
			if err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			continue
		}
		requireProblem(t, err, "schema_violation", "case_ref")
	}
}

// FuzzDecode: whatever Decode accepts is valid UTF-8 JSON that encoding/json reads to the
// very same value; nothing panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}]}`, `{"a":1,"a":2}`, `null`, "\"\xff\"", `[1,]`, `{"a":"\u0000"}`, `1 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := schemas.Decode(raw)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("refusal is not a problem: %v", err)
			}
			return
		}
		if !utf8.Valid(raw) || !json.Valid(raw) {
			t.Fatalf("accepted invalid input %q", raw)
		}
		if want := stdDecode(t, raw); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", raw, got, want)
		}
	})
}

func stdDecode(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
