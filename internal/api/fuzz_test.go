package api_test

import (
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// FuzzRoutes sends arbitrary bodies and path tails to every route as a tenant admin, through
// the real server on real SQLite: no input may produce a 5xx.
func FuzzRoutes(f *testing.F) {
	f.Add(uint8(2), "", []byte(goodSettings))
	f.Add(uint8(3), "", []byte(`{"envelopes":[{"schema_version":"aispm.ingest_envelope.v1"}]}`))
	f.Add(uint8(4), "delivery-contract", []byte(nil))
	f.Add(uint8(1), "x/../../y", []byte(`{"a":`))
	f.Add(uint8(17), "", []byte(`{"domain_rules":[{"domain":"a.example","classification":"internal","allowed_channels":["email"]}],"default_action":"deny","external_delivery_default":"deny"}`))
	f.Add(uint8(18), "", []byte(`{"artifact_ref":"artifact:art_x","channel":"email","recipients":["a@b.example"]}`))
	e := newEnv(f)
	routes := api.Routes()
	f.Fuzz(func(t *testing.T, pick uint8, param string, body []byte) {
		e.t = t
		rt := routes[int(pick)%len(routes)]
		path := strings.ReplaceAll(rt.Path, "{contract}", urlSafe(param))
		path = strings.ReplaceAll(path, "{distribution_ref}", urlSafe(param))
		// The send route refuses a request without an idempotency key before reading the body.
		r := e.call(rt.Method, path, e.as("acme", auth.TenantAdmin), body, map[string]string{"Idempotency-Key": "fuzz-key-0001"})
		if r.status >= 500 {
			t.Fatalf("%s %s answered %d: %s", rt.Method, path, r.status, r.body)
		}
	})
}

func urlSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}
