package canonjson_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
)

func TestCanonicalFormIsIndependentOfKeyOrderAndSpacing(t *testing.T) {
	a, err := canonjson.Canonicalize([]byte(`{ "b": [1, 2.50, {"y":1,"x":"<&>"}], "a": 1e3 }`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := canonjson.Canonicalize([]byte(`{"a":1e3,"b":[1,2.50,{"x":"<&>","y":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":1e3,"b":[1,2.50,{"x":"<&>","y":1}]}`
	if string(a) != want || string(b) != want {
		t.Fatalf("got %s and %s, want %s", a, b, want)
	}
	// The digest is of the canonical bytes: sha256 of the string above.
	if got := canonjson.Digest(a); got != "sha256:"+sha256hex(want) {
		t.Fatalf("digest %s", got)
	}
	if _, err := canonjson.Canonicalize([]byte(`{"a":`)); err == nil {
		t.Fatal("broken JSON canonicalized")
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
