package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
)

// Access is what one function may do; the stack turns it into grant* calls (no hand-written
// IAM) and into the environment the function needs for it.
type Access struct {
	Table TableAccess
	// ObjectsRead: get, head and presign reads of artifact-bucket objects.
	ObjectsRead bool
	// ObjectsWrite: new object versions with retention and legal hold (never deletion).
	ObjectsWrite bool
	// ObjectsDelete: delete object versions. Object Lock still refuses a version under
	// retention or legal hold; only the deletion of expired artifacts needs this.
	ObjectsDelete bool
	// Sign: sign with the KMS signing key and read its public key (AISPM_SIGNING_KEY_ID).
	Sign bool
	// PublicKey: read the signing key's public key only, to verify (AISPM_SIGNING_KEY_ID).
	PublicKey bool
	// NamesSigningKey: names the signing key in what it returns (the retention-lifecycle
	// export of get-export, and get-exports, which builds it to tell its readiness):
	// AISPM_SIGNING_KEY_ID only, no KMS call and no KMS grant.
	NamesSigningKey bool
	// Schedules: creates the tenant's one-shot schedules (the expiry sweep of each render)
	// in its EventBridge Scheduler group tenant-<id>: AISPM_SCHEDULE_TARGET_ARN,
	// AISPM_SCHEDULE_ROLE_ARN and AISPM_SCHEDULE_DEAD_LETTER_ARN, schedule and group actions
	// on this account and region's tenant-* groups only, and iam:PassRole on the scheduler's
	// role only (the role, not the function, sends to the dead-letter queue).
	Schedules bool
	// Mail: sends email through SES v2 from the configured sender identity only
	// (AISPM_SES_ENABLED, ses:SendEmail and ses:SendRawEmail on that identity's ARN). Without
	// a sender identity in the deployment configuration no function may mail.
	Mail bool
	// Approvals: opens, reads and decides approval gates on the stack's Step Functions gate
	// (AISPM_APPROVAL_STATE_MACHINE_ARN, AISPM_APPROVAL_ACTIVITY_ARN; start and describe
	// executions of that machine, take and complete tasks of that activity).
	Approvals bool
	// TouchTokens: updates token records only (dynamodb:UpdateItem on the table where every
	// partition key is TOKEN#...), to record a token's last use; nothing else is writable.
	TouchTokens bool
}

// usesSigningKey tells whether the function gets the signing key's id.
func (a Access) usesSigningKey() bool { return a.Sign || a.PublicKey || a.NamesSigningKey }

// TableAccess is a function's access to the DynamoDB table.
type TableAccess int

const (
	TableRead TableAccess = iota + 1
	TableReadWrite
)

// routeAccess is the least privilege of each route-table entry. A route added to
// internal/api without an entry here fails the synth (and the assertions tests) instead of
// deploying with a guessed grant. A render schedules its expiry sweep and, with a
// package_type, signs the package manifest like post-package.
var routeAccess = map[string]Access{
	"get-catalog":             {Table: TableRead},
	"get-openapi":             {}, // answers the document built into its binary: no table, no objects, no key
	"get-settings":            {Table: TableRead},
	"put-settings":            {Table: TableReadWrite},
	"post-ingest":             {Table: TableReadWrite, ObjectsWrite: true},
	"get-export":              {Table: TableRead, NamesSigningKey: true}, // the retention-lifecycle export names the key
	"get-exports":             {Table: TableRead, NamesSigningKey: true}, // runs every export as get-export does, to tell readiness
	"post-render":             {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true, Sign: true, Schedules: true},
	"post-search":             {Table: TableReadWrite},
	"get-artifact":            {Table: TableRead},
	"post-retrieval":          {Table: TableReadWrite, ObjectsRead: true},
	"post-legal-hold":         {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true},
	"post-legal-hold-release": {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true},
	"delete-artifact":         {Table: TableReadWrite, ObjectsRead: true, ObjectsDelete: true},
	"post-deletion-readiness": {Table: TableReadWrite, ObjectsRead: true},
	"post-package":            {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true, Sign: true},
	"get-package":             {Table: TableRead},
	"get-evidence-proof":      {Table: TableRead, ObjectsRead: true, PublicKey: true},
	// Delivery: the policy is a table item; a send reads what it sends (attachment, presigned
	// link), writes GRC exports and schedules its retry sweep; a decision delivers like a send.
	"get-recipient-policy": {Table: TableRead},
	"put-recipient-policy": {Table: TableReadWrite},
	// A send opens the approval gate; approve and deny decide it (and read its status).
	"post-send":                 {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true, Schedules: true, Mail: true, Approvals: true},
	"post-distribution-approve": {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true, Schedules: true, Mail: true, Approvals: true},
	"post-distribution-deny":    {Table: TableReadWrite, Approvals: true},
	"get-deliveries":            {Table: TableRead},
	// Schedules: a table item and its entry in the tenant's EventBridge Scheduler group;
	// creating, changing and resuming one reads the recipient policy, parses the render and,
	// when the policy gates its sends, opens its approval gate.
	"post-schedule":        {Table: TableReadWrite, Schedules: true, Approvals: true},
	"get-schedules":        {Table: TableRead},
	"get-schedule":         {Table: TableRead},
	"patch-schedule":       {Table: TableReadWrite, Schedules: true, Approvals: true},
	"post-schedule-pause":  {Table: TableReadWrite, Schedules: true},
	"post-schedule-resume": {Table: TableReadWrite, Schedules: true, Approvals: true},
	// A schedule the recipient policy gates waits for an approver through the approval gate.
	"post-schedule-approve": {Table: TableReadWrite, Schedules: true, Approvals: true},
	"post-schedule-deny":    {Table: TableReadWrite, Schedules: true, Approvals: true},
	"delete-schedule":       {Table: TableReadWrite, Schedules: true},
	"get-schedule-runs":     {Table: TableRead},
	// Tokens are table items (hash-keyed records and evidence).
	"get-tokens":        {Table: TableRead},
	"post-token":        {Table: TableReadWrite},
	"post-token-revoke": {Table: TableReadWrite},
	"post-token-rotate": {Table: TableReadWrite},
}

// authorizerAccess: the authorizer looks tokens up and records their last use.
var authorizerAccess = Access{Table: TableRead, TouchTokens: true}

// The functions that serve no route (functions/<name>).
const (
	auditWriterName    = "audit-writer"
	auditSealerName    = "audit-sealer"
	scheduleRunnerName = "schedule-runner"
)

// triggerAccess is the least privilege of the functions that events, not API calls, start.
var triggerAccess = map[string]Access{
	// Appends evidence to the hash-chained log (conditional writes), seals segments and
	// checkpoints into the WORM bucket under retention (reading back what a crashed seal
	// left) and signs checkpoints. Stream read comes with Data.AddStreamConsumer.
	auditWriterName: {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true, Sign: true},
	// The same sealing for tenants whose checkpoint is due by age, on a schedule.
	auditSealerName: {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true, Sign: true},
	// Fires artifact expiry sweeps (due artifacts marked expired with evidence in one
	// transaction) and delivery retry sweeps: a retry delivers like a send (attachment or
	// link, GRC export, mail), schedules the next retry in the tenant's group, and expires
	// approvals past their window (reading and closing their gate).
	// It also runs report schedules: renders (signing a package when a run sends several
	// formats) and sends like post-render and post-send.
	scheduleRunnerName: {Table: TableReadWrite, ObjectsRead: true, ObjectsWrite: true, Schedules: true, Mail: true, Approvals: true, Sign: true},
}

// accessFor returns the access of every route, or an error naming the routes without one
// (and the entries for routes that no longer exist).
func accessFor(routes []api.Route) (map[string]Access, error) {
	out := map[string]Access{}
	var missing, stale []string
	for _, r := range routes {
		a, ok := routeAccess[r.Name]
		if !ok {
			missing = append(missing, r.Name)
			continue
		}
		out[r.Name] = a
	}
	for name := range routeAccess {
		if _, ok := out[name]; !ok {
			stale = append(stale, name)
		}
	}
	slices.Sort(stale)
	if len(missing) > 0 || len(stale) > 0 {
		return nil, fmt.Errorf("infra/access.go is out of step with the route table: no access for [%s]; entries for unknown routes [%s]",
			strings.Join(missing, " "), strings.Join(stale, " "))
	}
	return out, nil
}
