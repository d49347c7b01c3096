package ingest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// TestPublicStructsDeclareFieldsInKeyOrder: encodeCanonical relies on it.
func TestPublicStructsDeclareFieldsInKeyOrder(t *testing.T) {
	var check func(reflect.Type)
	check = func(typ reflect.Type) {
		var names []string
		for f := range typ.Fields() {
			names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
			if f.Type.Kind() == reflect.Struct {
				check(f.Type)
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s declares its fields out of key order: %v", typ.Name(), names)
		}
	}
	check(reflect.TypeFor[PublicEnvelope]())
}

// fullPublic is a public envelope with every field set, its strings holding what JSON
// encoders treat differently (HTML characters, line and paragraph separators, escapes).
func fullPublic(t *testing.T) (any, PublicEnvelope) {
	t.Helper()
	raw := strings.Replace(benchPublic(7), `"ran the unit tests"`, `"a <b> & \"c\" \\ d \u2028 e \u00e9 \ud83d\ude00"`, 1)
	doc, err := schemas.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	var env PublicEnvelope
	if err := decodeStrict(doc, &env); err != nil {
		t.Fatal(err)
	}
	if zero := zeroFields(reflect.ValueOf(env)); len(zero) > 0 {
		t.Fatalf("the full envelope leaves fields unset: %v", zero)
	}
	return doc, env
}

func zeroFields(v reflect.Value) []string {
	var out []string
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			out = append(out, zeroFields(f)...)
		case f.IsZero() && f.Kind() != reflect.Bool:
			out = append(out, v.Type().Field(i).Name)
		}
	}
	return out
}

// TestEncodeCanonicalIsCanonjson: the envelope's own encoding is byte for byte canonjson's.
func TestEncodeCanonicalIsCanonjson(t *testing.T) {
	_, full := fullPublic(t)
	sparse := full
	sparse.Event, sparse.Source.RuntimeVersion, sparse.Transport.RetryCount = PublicEvent{EventID: "e", OccurredAt: "x"}, "", nil
	for _, env := range []PublicEnvelope{full, full.contentView(), sparse} {
		got, err := encodeCanonical(env)
		if err != nil {
			t.Fatal(err)
		}
		want, err := canonjson.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encodeCanonical:\n%s\ncanonjson:\n%s", got, want)
		}
	}
}

// TestPublicFromDocMatchesStrictDecode: reading the validated document gives what a strict
// decode of it gives, with every field present, each one left out, and odd retry counts.
func TestPublicFromDocMatchesStrictDecode(t *testing.T) {
	doc, _ := fullPublic(t)
	variants := []map[string]any{doc.(map[string]any)}
	for _, path := range keyPaths(doc.(map[string]any), nil) {
		d, _ := fullPublic(t)
		m := d.(map[string]any)
		for _, k := range path[:len(path)-1] {
			m = m[k].(map[string]any)
		}
		delete(m, path[len(path)-1])
		variants = append(variants, d.(map[string]any))
	}
	for _, n := range []string{"0", "1000000", "3.0", "1e2", "-0", "99999999999999999999"} {
		d, _ := fullPublic(t)
		d.(map[string]any)["transport"].(map[string]any)["retry_count"] = json.Number(n)
		variants = append(variants, d.(map[string]any))
	}
	d, _ := fullPublic(t)
	d.(map[string]any)["event"].(map[string]any)["evidence_refs"] = []any{}
	variants = append(variants, d.(map[string]any))
	for i, v := range variants {
		var want PublicEnvelope
		wantErr := decodeStrict(v, &want)
		got, err := publicFromDoc(v)
		if (err != nil) != (wantErr != nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("variant %d: publicFromDoc %+v (%v), strict decode %+v (%v)", i, got, err, want, wantErr)
		}
	}
}

// keyPaths lists the path of every key in m, nested objects included.
func keyPaths(m map[string]any, prefix []string) [][]string {
	var out [][]string
	for k, v := range m {
		p := append(slices.Clone(prefix), k)
		out = append(out, p)
		if sub, ok := v.(map[string]any); ok {
			out = append(out, keyPaths(sub, p)...)
		}
	}
	return out
}
