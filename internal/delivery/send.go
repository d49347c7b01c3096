package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

func digestOf(v any) (string, error) { return canonjson.DigestOf(v) }

// SendRequest is a validated send body.
type SendRequest struct {
	ArtifactRef string   `json:"artifact_ref,omitempty"`
	PackageRef  string   `json:"package_ref,omitempty"`
	Channel     string   `json:"channel"`
	Recipients  []string `json:"recipients,omitempty"`
	Message     string   `json:"message,omitempty"`
}

var idemRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// CheckIdempotencyKey validates the Idempotency-Key header.
func CheckIdempotencyKey(k string) error {
	if !idemRe.MatchString(k) {
		return problem.InvalidField("Idempotency-Key", "send an Idempotency-Key header of 8 to 128 letters, digits or . _ : -")
	}
	return nil
}

// ParseSend validates a send body: schema, then rules. Addresses are lower-cased.
func ParseSend(body []byte) (SendRequest, error) {
	var r SendRequest
	if err := schemas.DecodeValid("send-request.schema.json", body, &r); err != nil {
		return SendRequest{}, err
	}
	if (r.ArtifactRef == "") == (r.PackageRef == "") {
		return SendRequest{}, problem.InvalidField("artifact_ref", "name exactly one of artifact_ref or package_ref")
	}
	if r.Channel == GRC && r.PackageRef == "" {
		return SendRequest{}, problem.InvalidField("package_ref", "the grc channel sends a signed package")
	}
	if r.Channel == Email && len(r.Recipients) == 0 {
		return SendRequest{}, problem.InvalidField("recipients", "email needs at least one recipient")
	}
	for i, a := range r.Recipients {
		norm, ok := parseAddress(a)
		field := fmt.Sprintf("recipients[%d]", i)
		if !ok {
			return SendRequest{}, problem.InvalidField(field, "must be a bare email address")
		}
		if slices.Contains(r.Recipients[:i], norm) {
			return SendRequest{}, problem.InvalidField(field, "recipients must be unique")
		}
		r.Recipients[i] = norm
	}
	return r, nil
}

// SendInput is one call of the send route.
type SendInput struct {
	TenantID       string
	Role           string
	TokenRef       string
	IdempotencyKey string
	Request        SendRequest
	// Set by scheduled runs, never by the send route: the schedule's retry policy, its
	// ref, and RequireApproval, which gates a send the policy would allow (a run in a
	// require_manual_approval blackout, or an approval policy that asks for one).
	Retry           *RetryPolicy
	ScheduleRef     string
	RequireApproval bool
	// ApprovedBy is the approval of the schedule this run belongs to, bound to the
	// schedule's recipients and content: a send the policy gates goes ahead under it
	// instead of waiting again. A send the policy blocks stays blocked, and
	// RequireApproval still gates.
	ApprovedBy string
}

// subject is what a delivery sends.
type subject struct {
	Ref, Digest, ReportID, Format, StoreRef string
}

// Send creates the delivery for a request, or returns the one an earlier request with the
// same idempotency key created (replayed true). The idempotency item and the delivery are
// written in one conditional transaction, so of any number of racing requests exactly one
// creates a delivery and only that one delivers.
func (s *Service) Send(ctx context.Context, in SendInput) (Record, bool, error) {
	idem := canonjson.Digest([]byte(in.IdempotencyKey))
	reqDigest, err := digestOf(in.Request)
	if err != nil {
		return Record{}, false, err
	}
	if rec, ok, err := s.replay(ctx, in.TenantID, idem, reqDigest); ok || err != nil {
		return rec, ok, err
	}
	rec, err := s.create(ctx, in, idem, reqDigest)
	if errors.Is(err, itemstore.ErrConflict) {
		rec, ok, err := s.replay(ctx, in.TenantID, idem, reqDigest)
		if err == nil && !ok {
			err = fmt.Errorf("idempotency item vanished after a conflict")
		}
		return rec, true, err
	}
	if err != nil {
		return Record{}, false, err
	}
	rec, err = s.advance(ctx, in.TenantID, rec)
	return rec, false, err
}

// replay finds the delivery of an idempotency key. A key reused with another body is a 409.
// A replayed gated delivery whose gate did not open (a crash between the two) opens it now;
// a replayed delivery still queued is attempted now.
func (s *Service) replay(ctx context.Context, tenantID, idem, reqDigest string) (Record, bool, error) {
	it, err := s.Items.Get(ctx, idempotencyKey(tenantID), idem)
	if errors.Is(err, itemstore.ErrNotFound) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("read idempotency key: %w", err)
	}
	var ik struct {
		DeliveryRef string `json:"delivery_ref"`
	}
	if err := json.Unmarshal(it.Data, &ik); err != nil {
		return Record{}, false, fmt.Errorf("decode idempotency key: %w", err)
	}
	rec, err := s.Get(ctx, tenantID, ik.DeliveryRef)
	if err != nil {
		return Record{}, false, err
	}
	if rec.RequestDigest != reqDigest {
		return Record{}, false, problem.New(problem.Conflict, "idempotency_key_reused", "Idempotency-Key",
			"this key was used for a different send; use a new key")
	}
	switch rec.Status {
	case StatusPendingApproval:
		if err := s.ensureGate(ctx, tenantID, rec); err != nil {
			return Record{}, false, err
		}
	case StatusQueued:
		// Created but never attempted (the first request failed or died before it could):
		// the client's retry is the moment to attempt it.
		rec, err = s.attempt(ctx, tenantID, rec)
		return rec, true, err
	}
	return rec, true, nil
}

func (s *Service) create(ctx context.Context, in SendInput, idem, reqDigest string) (Record, error) {
	st, err := s.Settings(ctx, in.TenantID)
	if err != nil {
		return Record{}, err
	}
	if err := checkProvider(st, in.Request); err != nil {
		return Record{}, err
	}
	subj, err := s.subject(ctx, in.TenantID, in.Request)
	if err != nil {
		return Record{}, err
	}
	pol, err := s.GetPolicy(ctx, in.TenantID)
	if err != nil {
		return Record{}, err
	}
	dec := Evaluate(pol.Policy.WithBlockedDomains(st.RecipientGovernance.BlockedDomains), in.Request.Channel, in.Request.Recipients)
	if in.RequireApproval {
		dec.raise(RequireApproval, ReasonScheduleApproval)
	}
	preApproved := in.ApprovedBy != "" && !in.RequireApproval && dec.Outcome == RequireApproval
	if dec.Outcome == RequireApproval && s.Gate == nil {
		return Record{}, problem.New(problem.Conflict, "approval_gate_unavailable", "", "this send needs approval and no approval gate is configured")
	}
	now := s.Clock.Now()
	rec := newRecord(in, subj, dec, idem, reqDigest, now)
	if rec.Channel == Email {
		rec.ProviderMode = st.DeliveryProvider.Mode
	}
	status := map[string]string{Allow: StatusQueued, RequireApproval: StatusPendingApproval, BlockedPolicy: StatusBlocked}[dec.Outcome]
	if preApproved {
		// The decision keeps its outcome and reasons; the schedule's approval answers it.
		dec.addReason(ReasonScheduleApproved)
		rec.Decision = dec
		rec.ScheduleApprovalRef, status = in.ApprovedBy, StatusQueued
	}
	if status == StatusPendingApproval {
		rec.ApprovalRef = ref.Make("approval", rec.ID())
		rec.ApprovalExpiresAt = stamp(now.Add(approvalTimeout(st)))
	}
	ev, err := s.evidence(in.TenantID, in.Role, evidence.DeliveryRequested, rec, map[string]any{
		"channel": rec.Channel, "outcome": dec.Outcome, "reasons": dec.Reasons, "recipient_count": len(rec.Recipients),
		"subject_digest": rec.SubjectDigest, "request_digest": reqDigest, "status": status}, now)
	if err != nil {
		return Record{}, err
	}
	rec.setStatus(status, ev.Ref, now)
	if err := s.insert(ctx, in.TenantID, rec, idem, ev); err != nil {
		return Record{}, err
	}
	rec.version = 1
	return rec, nil
}

func newRecord(in SendInput, subj subject, dec Decision, idem, reqDigest string, now time.Time) Record {
	recipients := in.Request.Recipients
	if recipients == nil {
		recipients = []string{}
	}
	return Record{
		DeliveryRef: ref.Make("delivery", ref.NewID("dlv", now)), Channel: in.Request.Channel,
		SubjectRef: subj.Ref, SubjectDigest: subj.Digest, ReportID: subj.ReportID, Format: subj.Format,
		ImmutableStoreRef: subj.StoreRef, Decision: dec,
		Recipients: recipients, Message: in.Request.Message, RequesterRole: in.Role, RequesterTokenRef: in.TokenRef,
		IdempotencyDigest: idem, RequestDigest: reqDigest, Attempts: []Attempt{}, History: []StatusEntry{},
		EvidenceRefs: []string{}, CreatedAt: stamp(now), Retry: in.Retry, ScheduleRef: in.ScheduleRef,
	}
}

func (s *Service) insert(ctx context.Context, tenantID string, rec Record, idem string, ev evidence.Record) error {
	data, err := json.Marshal(map[string]string{"delivery_ref": rec.DeliveryRef})
	if err != nil {
		return err
	}
	idw := itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: idempotencyKey(tenantID), SK: idem, Data: data}}
	dw, err := rec.write(tenantID, itemstore.IfAbsent)
	if err != nil {
		return err
	}
	evw, err := ev.Write()
	if err != nil {
		return err
	}
	if err := s.Items.Transact(ctx, []itemstore.Write{idw, dw, evw}); err != nil {
		return fmt.Errorf("create delivery: %w", err)
	}
	return nil
}

// checkProvider refuses a send the tenant's delivery settings cannot carry.
func checkProvider(st settings.Settings, r SendRequest) error {
	if r.Channel == Email && st.DeliveryProvider.SenderAddress == "" {
		return problem.New(problem.Conflict, "delivery_provider_not_configured", "delivery_provider.sender_address",
			"set a sender address in the delivery settings before sending email")
	}
	if max := st.RecipientGovernance.MaxRecipientsPerSend; max > 0 && len(r.Recipients) > max {
		return problem.InvalidField("recipients", fmt.Sprintf("at most %d recipients per send (settings)", max))
	}
	return nil
}

func approvalTimeout(st settings.Settings) time.Duration {
	h := st.ScheduleAndAudit.ApprovalTimeoutHours
	if h <= 0 {
		h = 72
	}
	return time.Duration(h) * time.Hour
}

// subject resolves the artifact or package of a send inside the tenant: another tenant's
// ref is simply unknown.
func (s *Service) subject(ctx context.Context, tenantID string, r SendRequest) (subject, error) {
	if r.PackageRef != "" {
		pkg, err := s.Packages.Get(ctx, tenantID, r.PackageRef)
		if err != nil {
			if _, ok := problem.As(err); ok || errors.Is(err, itemstore.ErrNotFound) {
				return subject{}, problem.New(problem.NotFound, "unknown_package", "package_ref", "no such package")
			}
			return subject{}, err
		}
		return subject{Ref: pkg.Manifest.PackageRef, Digest: pkg.ManifestDigest, ReportID: pkg.Manifest.PackageType,
			Format: "json", StoreRef: "worm:" + pkg.ManifestKey + "#" + pkg.ManifestVer}, nil
	}
	rec, err := s.Artifacts.Get(ctx, tenantID, r.ArtifactRef)
	if err != nil {
		if _, ok := problem.As(err); ok || errors.Is(err, artifacts.ErrNotFound) || errors.Is(err, itemstore.ErrNotFound) {
			return subject{}, problem.New(problem.NotFound, "unknown_artifact", "artifact_ref", "no such artifact")
		}
		return subject{}, err
	}
	if state := rec.Effective(s.Clock.Now()); !deliverable(state) {
		return subject{}, problem.New(problem.Conflict, "artifact_not_deliverable", "artifact_ref", "the artifact is "+state)
	}
	return subject{Ref: rec.ArtifactRef, Digest: rec.Digest, ReportID: rec.ReportID, Format: rec.Format, StoreRef: rec.ImmutableStoreRef()}, nil
}

// Get reads one delivery of the tenant ("dlv_..." or "delivery:dlv_...").
func (s *Service) Get(ctx context.Context, tenantID, deliveryRef string) (Record, error) {
	_, id, ok := ref.Split(deliveryRef)
	if !ok {
		id = deliveryRef
	}
	if !idRe.MatchString(id) {
		return Record{}, problem.InvalidField("distribution_ref", "must be a delivery ref such as delivery:dlv_...")
	}
	it, err := s.Items.Get(ctx, PartitionKey(tenantID), id)
	if errors.Is(err, itemstore.ErrNotFound) {
		return Record{}, problem.New(problem.NotFound, "unknown_distribution", "distribution_ref", "no such delivery")
	}
	if err != nil {
		return Record{}, fmt.Errorf("read delivery: %w", err)
	}
	return decodeRecord(it)
}

var idRe = regexp.MustCompile(`^dlv_[0-9a-z]{26}$`)

func (s *Service) evidence(tenantID, role string, action evidence.Action, rec Record, details map[string]any, now time.Time) (evidence.Record, error) {
	return evidence.New(evidence.Event{TenantID: tenantID, Action: action, ActorRole: role, SubjectRefs: subjectRefs(rec), Details: details}, now)
}

// subjectRefs are the refs a delivery's evidence names.
func subjectRefs(rec Record) []string {
	subjects := []string{rec.DeliveryRef, rec.SubjectRef}
	if rec.ApprovalRef != "" {
		subjects = append(subjects, rec.ApprovalRef)
	}
	return subjects
}

func deliverable(state string) bool {
	return state == artifacts.Retained || state == artifacts.LegalHold || state == artifacts.Archived
}
