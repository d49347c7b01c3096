package reportapi

import (
	"context"
	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"net/http"
	"slices"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
)

// recipientReaders may see recipient addresses in the delivery log; the others see counts.
var recipientReaders = []auth.Role{auth.TenantAdmin, auth.ReportOperator, auth.Approver, auth.SecurityLeadership}

func getRecipientPolicy(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	p, err := h.Delivery.GetPolicy(ctx, r.Principal.TenantID)
	if err != nil {
		return api.Response{}, err
	}
	return api.WithETag(api.JSON(http.StatusOK, p), p.Version), nil
}

func putRecipientPolicy(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	precondition, err := api.ParseIfMatch(r.Header)
	if err != nil {
		return api.Response{}, err
	}
	ifMatch, err := precondition.Expect(func() (int64, error) {
		cur, err := h.Delivery.GetPolicy(ctx, r.Principal.TenantID)
		return cur.Version, err
	})
	if err != nil {
		return api.Response{}, err
	}
	p, _, err := h.Delivery.PutPolicy(ctx, r.Principal.TenantID, string(r.Principal.Role), r.Body, ifMatch)
	if err != nil {
		return api.Response{}, err
	}
	return api.WithETag(api.JSON(http.StatusOK, p), p.Version), nil
}

// DeliveryView is a delivery as the API shows it: recipients only to roles that may see them.
type DeliveryView struct {
	DeliveryRef       string                 `json:"delivery_ref"`
	DistributionRef   string                 `json:"distribution_ref"`
	Channel           string                 `json:"channel"`
	SubjectRef        string                 `json:"subject_ref"`
	SubjectDigest     string                 `json:"subject_digest"`
	ReportID          string                 `json:"report_id"`
	Status            string                 `json:"status"`
	PolicyDecision    delivery.Decision      `json:"policy_decision"`
	RecipientCount    int                    `json:"recipient_count"`
	Recipients        []string               `json:"recipients,omitempty"`
	RequesterRole     string                 `json:"requester_role"`
	ApprovalRef       string                 `json:"approval_ref,omitempty"`
	ApprovalExpiresAt string                 `json:"approval_expires_at,omitempty"`
	Approval          *delivery.Approval     `json:"approval,omitempty"`
	Attempts          []delivery.Attempt     `json:"attempts"`
	StatusHistory     []delivery.StatusEntry `json:"status_history"`
	EvidenceRefs      []string               `json:"evidence_refs"`
	NextAttemptAt     string                 `json:"next_attempt_at,omitempty"`
	FailureClass      string                 `json:"failure_class,omitempty"`
	// StatusReason says why, where a code says more than the class (attempt_outcome_unknown:
	// the worker died mid-send and the provider cannot be asked whether the mail left).
	StatusReason string `json:"status_reason,omitempty"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
}

func deliveryView(rec delivery.Record, role auth.Role) DeliveryView {
	v := DeliveryView{DeliveryRef: rec.DeliveryRef, DistributionRef: rec.ID(), Channel: rec.Channel, SubjectRef: rec.SubjectRef,
		SubjectDigest: rec.SubjectDigest, ReportID: rec.ReportID, Status: rec.Status, PolicyDecision: rec.Decision,
		RecipientCount: len(rec.Recipients), RequesterRole: rec.RequesterRole, ApprovalRef: rec.ApprovalRef,
		ApprovalExpiresAt: rec.ApprovalExpiresAt, Approval: rec.Approval, Attempts: rec.Attempts, StatusHistory: rec.History,
		EvidenceRefs: rec.EvidenceRefs, NextAttemptAt: rec.NextAttemptAt, FailureClass: rec.FailureClass,
		StatusReason: rec.StatusReason, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt}
	if slices.Contains(recipientReaders, role) {
		v.Recipients = rec.Recipients
	}
	return v
}

func postSend(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	key := r.Header.Get("Idempotency-Key")
	if err := delivery.CheckIdempotencyKey(key); err != nil {
		return api.Response{}, err
	}
	req, err := delivery.ParseSend(r.Body)
	if err != nil {
		return api.Response{}, err
	}
	rec, replayed, err := h.Delivery.Send(ctx, delivery.SendInput{TenantID: r.Principal.TenantID, Role: string(r.Principal.Role),
		TokenRef: r.Principal.TokenRef, IdempotencyKey: key, Request: req})
	if err != nil {
		return api.Response{}, err
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	resp := api.JSON(status, deliveryView(rec, r.Principal.Role))
	if replayed {
		resp.Header = http.Header{"Idempotent-Replayed": {"true"}}
	}
	return resp, nil
}

func postApprove(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	return decide(ctx, h, r, true)
}
func postDeny(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	return decide(ctx, h, r, false)
}

func decide(ctx context.Context, h *Services, r api.Request, approve bool) (api.Response, error) {
	req, err := delivery.ParseDecision(r.Body)
	if err != nil {
		return api.Response{}, err
	}
	rec, err := h.Delivery.Decide(ctx, delivery.DecideInput{TenantID: r.Principal.TenantID, Role: string(r.Principal.Role),
		TokenRef: r.Principal.TokenRef, DeliveryRef: r.PathParams["distribution_ref"], Approve: approve, Request: req})
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, deliveryView(rec, r.Principal.Role)), nil
}

type deliveriesBody struct {
	Deliveries []DeliveryView `json:"deliveries"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

func getDeliveries(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	f, err := delivery.ParseFilter(r.Query)
	if err != nil {
		return api.Response{}, err
	}
	page, err := h.Delivery.List(ctx, r.Principal.TenantID, f)
	if err != nil {
		return api.Response{}, err
	}
	body := deliveriesBody{Deliveries: make([]DeliveryView, 0, len(page.Deliveries)), NextCursor: page.NextCursor}
	for _, rec := range page.Deliveries {
		body.Deliveries = append(body.Deliveries, deliveryView(rec, r.Principal.Role))
	}
	return api.JSON(http.StatusOK, body), nil
}
