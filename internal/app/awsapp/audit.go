package awsapp

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/cavra-enterprise/aispm-reports/internal/app/awscore"
	"github.com/cavra-enterprise/aispm-reports/internal/audit/auditlambda"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// AuditWriterHandler returns the DynamoDB stream consumer that appends evidence to the
// audit log. It needs the signing key: it seals what becomes due.
func AuditWriterHandler(lookup config.Lookup) (any, error) {
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	if cfg.SigningKeyID == "" {
		return nil, fmt.Errorf("the audit writer signs checkpoints: %s is required", config.EnvSigningKeyID)
	}
	svc, err := Open(cfg, lookup)
	if err != nil {
		return nil, err
	}
	return auditlambda.Handler(svc.Audit, awscore.Logger()), nil
}

// AuditSealerHandler returns the scheduled function that seals every tenant whose
// checkpoint is due by age (a quiet tenant gets no stream batch to trigger it).
func AuditSealerHandler(lookup config.Lookup) (func(context.Context) error, error) {
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	if cfg.SigningKeyID == "" {
		return nil, errors.New("the audit sealer signs checkpoints: " + config.EnvSigningKeyID + " is required")
	}
	svc, err := Open(cfg, lookup)
	if err != nil {
		return nil, err
	}
	return svc.Audit.SealDue, nil
}

// StartAuditWriter runs the audit-writer Lambda.
func StartAuditWriter() {
	awscore.Start("audit-writer", func(context.Context) (any, error) { return AuditWriterHandler(os.LookupEnv) })
}

// StartAuditSealer runs the audit-sealer Lambda.
func StartAuditSealer() {
	awscore.Start("audit-sealer", func(context.Context) (any, error) { return AuditSealerHandler(os.LookupEnv) })
}
