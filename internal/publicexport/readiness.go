package publicexport

import (
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// Condition is one thing the state lacks for an export: a stable code and a message that
// says what is missing (never a value from the tenant's data).
type Condition struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var notImplemented = Condition{"not_implemented", "the product does not build this export yet"}

// Readiness tells whether one public contract can be exported now and, if not, why.
type Readiness struct {
	Name  string      `json:"name"`
	Ready bool        `json:"ready"`
	Unmet []Condition `json:"unmet_conditions"`
}

// View is the readiness of every public contract for one tenant.
type View struct {
	TenantRef   string      `json:"tenant_ref"`
	GeneratedAt string      `json:"generated_at"`
	ReadyCount  int         `json:"ready_count"`
	Exports     []Readiness `json:"exports"`
}

// ReadinessOf reports every public contract, in PublicContracts order. It runs each
// contract's export as Build does and keeps only the verdict, so the view and the exports
// cannot disagree.
func ReadinessOf(s State) (View, error) {
	v := View{TenantRef: ref.Make("tenant", s.Tenant.ID), GeneratedAt: s.Now.UTC().Format(time.RFC3339),
		Exports: make([]Readiness, 0, len(PublicContracts))}
	for _, name := range PublicContracts {
		_, unmet, err := prepare(name, s)
		if err != nil {
			return View{}, fmt.Errorf("readiness of %s: %w", name, err)
		}
		ready := len(unmet) == 0
		if ready {
			unmet = []Condition{}
			v.ReadyCount++
		}
		v.Exports = append(v.Exports, Readiness{Name: name, Ready: ready, Unmet: unmet})
	}
	return v, nil
}
