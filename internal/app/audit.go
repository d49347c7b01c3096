package app

import (
	"context"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// auditPolicy reads a tenant's checkpoint cadence and audit retention from its settings.
func auditPolicy(tenantSettings func(ctx context.Context, tenantID string) (settings.Settings, error)) audit.PolicyFunc {
	return func(ctx context.Context, tenantID string) (audit.Policy, error) {
		s, err := tenantSettings(ctx, tenantID)
		if err != nil {
			return audit.Policy{}, err
		}
		return audit.Policy{
			CheckpointEntries: s.ScheduleAndAudit.AuditCheckpointEntries,
			CheckpointEvery:   time.Duration(s.ScheduleAndAudit.AuditCheckpointSeconds) * time.Second,
			RetentionDays:     s.RetentionDays.AuditRecord,
		}, nil
	}
}

// newAuditWriter builds the audit writer on the ports (the embedded poller and the stream
// Lambda both drive this one writer).
func newAuditWriter(p ports.Set, tenantSettings func(ctx context.Context, tenantID string) (settings.Settings, error)) *audit.Writer {
	return audit.New(audit.Config{Items: p.Items, Objects: p.Objects, Signer: p.Signer, Policy: auditPolicy(tenantSettings), Clock: p.Clock})
}
