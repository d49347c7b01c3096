package audit_test

import (
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/audit/audittest"
)

func TestEmbedded(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audittest.Harness { return audittest.Embedded(t) })
}
