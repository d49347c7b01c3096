package evidence

// Action names a kind of state change. Every action the product performs is registered
// here, so a test can check that each one leaves evidence.
type Action string

const (
	TenantCreated   Action = "tenant.created"
	TokenIssued     Action = "token.issued"
	TokenRevoked    Action = "token.revoked"
	SettingsUpdated Action = "settings.updated"
	IngestAccepted  Action = "ingest.accepted"
)

var registered = map[Action]bool{
	TenantCreated: true, TokenIssued: true, TokenRevoked: true,
	SettingsUpdated: true, IngestAccepted: true,
}

func (a Action) known() bool { return registered[a] }
