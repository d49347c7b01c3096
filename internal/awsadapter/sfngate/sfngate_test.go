package sfngate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate/approvalgatetest"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
)

const role = "arn:aws:iam::000000000000:role/approval-gate"

func client(t *testing.T) *sfn.Client {
	t.Helper()
	ep := emulatortest.MiniStack(t)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	return sfn.NewFromConfig(cfg)
}

// provision creates a state machine and activity of the test's own, so tests sharing the
// emulator never take each other's activity tasks.
func provision(t *testing.T, c *sfn.Client) sfngate.Config {
	t.Helper()
	name := "gate-" + strings.TrimPrefix(approvalgatetest.Ref(t), "t-")
	sm, act, err := sfngate.Provision(context.Background(), c, name, role)
	if err != nil {
		t.Fatal(err)
	}
	return sfngate.Config{StateMachineARN: sm, ActivityARN: act, TokenWait: 20 * time.Second}
}

func TestContractMiniStack(t *testing.T) {
	c := client(t)
	approvalgatetest.Run(t, func(t *testing.T) approvalgate.Gate {
		return sfngate.New(c, sfngate.NewMemTokens(), provision(t, c))
	})
}

func TestDefinition(t *testing.T) {
	const act = "arn:aws:states:us-east-1:000000000000:activity:gate"
	var def struct {
		StartAt string
		States  map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(sfngate.Definition(act)), &def); err != nil {
		t.Fatal(err)
	}
	task := def.States[def.StartAt]
	if task["Type"] != "Task" || task["Resource"] != act || task["TimeoutSecondsPath"] != "$.timeoutSeconds" {
		t.Errorf("wait state = %v", task)
	}
	for _, s := range []string{"Route", "Approved", "Denied"} {
		if def.States[s] == nil {
			t.Errorf("no %s state", s)
		}
	}
}

// After expiry the execution itself is closed, not just reported expired: MiniStack never
// times the activity out, so the adapter does.
func TestExpiryClosesExecution(t *testing.T) {
	c := client(t)
	cfg := provision(t, c)
	g := sfngate.New(c, sfngate.NewMemTokens(), cfg)
	ctx := context.Background()
	ref := approvalgatetest.Ref(t)
	if err := g.Open(ctx, ref, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if st, err := g.Status(ctx, ref); err != nil || st.Status != approvalgate.Expired {
		t.Fatalf("Status = %+v, %v; want expired", st, err)
	}
	arn := strings.Replace(cfg.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + ref
	deadline := time.Now().Add(approvalgatetest.Settle)
	for {
		out, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != types.ExecutionStatusRunning {
			if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != sfngate.ErrorExpired {
				t.Errorf("execution ended %s with %q", out.Status, aws.ToString(out.Error))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("execution still running after expiry")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Activity tasks go to whichever poller asks first: gates opened at once through two
// adapters (two processes sharing a TokenStore) must each get their own token.
func TestTokensReachTheirGates(t *testing.T) {
	c := client(t)
	cfg := provision(t, c)
	store := sfngate.NewMemTokens()
	a, b := sfngate.New(c, store, cfg), sfngate.New(c, store, cfg)
	ctx := context.Background()
	refs := make([]string, 6)
	var wg sync.WaitGroup
	for i := range refs {
		refs[i] = approvalgatetest.Ref(t)
		opener := a
		if i%2 == 1 {
			opener = b
		}
		wg.Go(func() {
			if err := opener.Open(ctx, refs[i], time.Hour, nil); err != nil {
				t.Errorf("Open %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i, ref := range refs {
		decider := b
		if i%2 == 1 {
			decider = a
		}
		if err := decider.Decide(ctx, ref, i%3 == 0, fmt.Appendf(nil, `{"i":%d}`, i)); err != nil {
			t.Fatalf("Decide %d: %v", i, err)
		}
	}
	for i, ref := range refs {
		want := approvalgate.Denied
		if i%3 == 0 {
			want = approvalgate.Approved
		}
		var st approvalgate.State
		for end := time.Now().Add(approvalgatetest.Settle); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			var err error
			if st, err = a.Status(ctx, ref); err != nil {
				t.Fatal(err)
			}
			if st.Status != approvalgate.Pending {
				break
			}
		}
		if st.Status != want || string(st.Output) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Errorf("gate %d = %s %s, want %s", i, st.Status, st.Output, want)
		}
	}
}

// lostResponses applies every start and completion twice, answering with the second
// attempt: what the SDK's retry of a call whose first response was lost looks like.
type lostResponses struct{ *sfn.Client }

func (l lostResponses) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, o ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if _, err := l.Client.StartExecution(ctx, in, o...); err != nil {
		return nil, err
	}
	return l.Client.StartExecution(ctx, in, o...)
}

func (l lostResponses) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if _, err := l.Client.SendTaskSuccess(ctx, in, o...); err != nil {
		return nil, err
	}
	return l.Client.SendTaskSuccess(ctx, in, o...)
}

// TestRetriedCallsAreRecognised: a start or a decision that landed although its response
// was lost is the gate's own, not "already open" or "expired".
func TestRetriedCallsAreRecognised(t *testing.T) {
	c := client(t)
	g := sfngate.New(lostResponses{c}, sfngate.NewMemTokens(), provision(t, c))
	ctx := context.Background()
	ref := approvalgatetest.Ref(t)
	if err := g.Open(ctx, ref, time.Hour, nil); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := g.Decide(ctx, ref, true, []byte(`{"by":"retry"}`)); err != nil {
		t.Fatalf("Decide: %v", err)
	}
	st, err := g.Status(ctx, ref)
	if err != nil || st.Status != approvalgate.Approved {
		t.Fatalf("Status: %+v %v", st, err)
	}
	// A second gate under the same name is still refused: only the gate's own start passes.
	if err := g.Open(ctx, ref, time.Hour, nil); !errors.Is(err, approvalgate.ErrExists) {
		t.Fatalf("reopen: %v", err)
	}
}
