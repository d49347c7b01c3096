package ingest

import (
	"bytes"
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
