package api_test

import (
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// BenchmarkCatalogOverHTTP measures one authenticated catalog request through the local
// server on real SQLite (loopback HTTP included).
func BenchmarkCatalogOverHTTP(b *testing.B) {
	e := newEnv(b)
	tok := e.as("acme", auth.ReportOperator)
	b.ResetTimer()
	for b.Loop() {
		if r := e.call("GET", catalogPath, tok, nil, nil); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}
