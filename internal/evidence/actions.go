package evidence

// Action names a kind of state change. Every action the product performs is registered
// here, so a test can check that each one leaves evidence.
type Action string

const (
	TenantCreated   Action = "tenant.created"
	TokenIssued     Action = "token.issued"
	TokenRevoked    Action = "token.revoked"
	TokenRotated    Action = "token.rotated"
	SettingsUpdated Action = "settings.updated"
	IngestAccepted  Action = "ingest.accepted"

	ReportRendered    Action = "report.rendered"
	PackageSigned     Action = "package.signed"
	LegalHoldSet      Action = "artifact.legal_hold_set"
	LegalHoldReleased Action = "artifact.legal_hold_released"
	ArtifactExpired   Action = "artifact.expired"
	ArtifactDeleted   Action = "artifact.deleted"
	DeletionReadiness Action = "retention.deletion_readiness"
	SearchPerformed   Action = "search.performed"
	RetrievalDecided  Action = "artifact.retrieval_decided"
	// IntegrityFailed: stored content was refused on its way out (a delivery, a retrieval,
	// a presigned download) because its bytes failed the recorded digest.
	IntegrityFailed Action = "artifact.integrity_failed"

	RecipientPolicyUpdated Action = "recipient_policy.updated"
	DeliveryRequested      Action = "delivery.requested"
	ApprovalDecided        Action = "delivery.approval_decided"
	DeliveryAttempted      Action = "delivery.attempted"
	DeliveryFinished       Action = "delivery.finished"
	// DeliveryTested is the setup wizard's test delivery through the tenant's provider.
	DeliveryTested Action = "delivery.test_delivery"

	ScheduleCreated     Action = "schedule.created"
	ScheduleUpdated     Action = "schedule.updated"
	SchedulePaused      Action = "schedule.paused"
	ScheduleResumed     Action = "schedule.resumed"
	ScheduleDeleted     Action = "schedule.deleted"
	ScheduleRunRecorded Action = "schedule.run_recorded"
	// ScheduleApprovalDecided: an approver approved or denied a schedule the policy gates.
	ScheduleApprovalDecided Action = "schedule.approval_decided"
)

var registered = map[Action]bool{
	TenantCreated: true, TokenIssued: true, TokenRevoked: true, TokenRotated: true,
	SettingsUpdated: true, IngestAccepted: true,
	ReportRendered: true, PackageSigned: true, LegalHoldSet: true, LegalHoldReleased: true,
	ArtifactExpired: true, ArtifactDeleted: true, DeletionReadiness: true, SearchPerformed: true,
	RetrievalDecided: true, IntegrityFailed: true,
	RecipientPolicyUpdated: true, DeliveryRequested: true, ApprovalDecided: true,
	DeliveryAttempted: true, DeliveryFinished: true,
	ScheduleCreated: true, ScheduleUpdated: true, SchedulePaused: true, ScheduleResumed: true,
	ScheduleDeleted: true, ScheduleRunRecorded: true, ScheduleApprovalDecided: true,
}

func (a Action) known() bool { return registered[a] }
