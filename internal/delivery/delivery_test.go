package delivery

import (
	"errors"
	"fmt"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

func TestBackoffDoublesCapsAndJitters(t *testing.T) {
	st := settings.Defaults("x") // retry base 30 s
	none := func(time.Duration) time.Duration { return 0 }
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 8: 64 * time.Minute, 20: time.Hour} {
		if got := backoff(st, n, none); got != min(want, time.Hour) {
			t.Errorf("attempt %d: %s, want %s", n, got, min(want, time.Hour))
		}
	}
	var asked time.Duration
	got := backoff(st, 2, func(max time.Duration) time.Duration { asked = max; return max - 1 })
	if asked != 30*time.Second || got != time.Minute+30*time.Second-1 {
		t.Fatalf("jitter: asked %s, got %s", asked, got)
	}
}

func TestClassify(t *testing.T) {
	for err, want := range map[error]string{
		nil:                                      "",
		fmt.Errorf("x: %w", mailer.ErrAuth):      FailProviderAuth,
		fmt.Errorf("x: %w", mailer.ErrRejected):  FailRecipientPolicy,
		fmt.Errorf("x: %w", mailer.ErrThrottled): FailProviderRateLimit,
		&failure{class: FailRenderError, err: errors.New("gone")}: FailRenderError,
		errors.New("connection reset"):                            FailUnknown,
	} {
		if got := classify(err); got != want {
			t.Errorf("classify(%v) = %q, want %q", err, got, want)
		}
	}
	if transient[FailProviderAuth] || transient[FailRecipientPolicy] || transient[FailRenderError] || !transient[FailProviderRateLimit] {
		t.Fatal("transient classes wrong")
	}
}

func TestParseSendNormalizes(t *testing.T) {
	r, err := ParseSend([]byte(`{"artifact_ref":"artifact:art_1","channel":"email","recipients":["Ops@Acme.Example"]}`))
	if err != nil || r.Recipients[0] != "ops@acme.example" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, body := range []string{
		`{"artifact_ref":"artifact:art_1","channel":"email","recipients":["Ops <ops@acme.example>"]}`,
		`{"artifact_ref":"artifact:art_1","channel":"email","recipients":["ops@localhost"]}`,
		`{"artifact_ref":"artifact:art_1","package_ref":"package:p","channel":"portal"}`,
		`{"artifact_ref":"artifact:art_1","channel":"portal","extra":1}`,
	} {
		if _, err := ParseSend([]byte(body)); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}

func TestWithBlockedDomainsKeepsExplicitRules(t *testing.T) {
	p := DefaultPolicy()
	p.DomainRules = []DomainRule{{Domain: "a.example", Classification: Internal, AllowedChannels: []string{Email}}}
	q := p.WithBlockedDomains([]string{"a.example", "B.example"})
	if len(q.DomainRules) != 2 || q.DomainRules[1].Domain != "b.example" || len(p.DomainRules) != 1 {
		t.Fatalf("%+v", q.DomainRules)
	}
	if d := Evaluate(q, Email, []string{"x@b.example"}); d.Outcome != BlockedPolicy {
		t.Fatalf("%+v", d)
	}
}

// TestOnlyOpenDeliveriesAreIndexedForTheSweep: a final delivery leaves the index the sweeps
// read, so a sweep costs what is open, not the whole delivery log.
func TestOnlyOpenDeliveriesAreIndexedForTheSweep(t *testing.T) {
	for status, indexed := range map[string]bool{
		StatusQueued: true, StatusSending: true, StatusRetryScheduled: true, StatusPendingApproval: true,
		StatusDelivered: false, StatusDeadLettered: false, StatusBlocked: false, StatusDenied: false,
		StatusExpired: false, StatusVoided: false,
	} {
		w, err := Record{DeliveryRef: "delivery:dlv_1", Status: status}.write("acme", itemstore.IfVersion)
		if err != nil {
			t.Fatal(err)
		}
		in := w.Item.GSI1PK == "T#acme#DLV#OPEN" && w.Item.GSI1SK == "dlv_1"
		if in != indexed || !indexed && (w.Item.GSI1PK != "" || w.Item.GSI1SK != "") {
			t.Errorf("%s: index keys %q/%q", status, w.Item.GSI1PK, w.Item.GSI1SK)
		}
	}
}
