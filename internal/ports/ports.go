// Package ports names the set of adapters the domain services run on. It imports only the
// port interfaces, so a Lambda function that builds a few services from it links no more
// than those services need.
package ports

import (
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/egress"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// Set is one family of adapters (embedded or AWS). Signer may be nil where no signing key
// is configured: package creation then fails with a configuration error, nothing else does.
// Mailer and Gate may be nil where not configured: email then dead-letters as provider_auth
// and a send that needs approval is refused.
type Set struct {
	Items     itemstore.Store
	Objects   objectstore.Store
	Scheduler scheduler.Scheduler
	Signer    signer.Signer
	Clock     clock.Clock
	Mailer    mailer.Sender
	Gate      approvalgate.Gate
	// Egress is the deployment's rule for the hosts tenants' deliveries may reach (SMTP
	// relays, webhooks); the zero value allows public addresses only.
	Egress egress.Policy
}

// Port names for Require.
const (
	Items   = "item store"
	Objects = "object store"
	Clock   = "clock"
)

// Require refuses a set that lacks a port the caller's services need, so a function wired
// without it fails at start-up, naming the port, instead of on its first request.
func (s Set) Require(names ...string) error {
	for _, n := range names {
		var missing bool
		switch n {
		case Items:
			missing = s.Items == nil
		case Objects:
			missing = s.Objects == nil
		case Clock:
			missing = s.Clock == nil
		default:
			return fmt.Errorf("unknown port %q", n)
		}
		if missing {
			return fmt.Errorf("the %s is not configured for these routes", n)
		}
	}
	return nil
}
