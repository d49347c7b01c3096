// Package sfngate is the AWS approvalgate.Gate: one Step Functions execution per gate
// (execution name = ref), waiting on an activity task whose token the adapter records in a
// TokenStore. Approve and deny complete the task with SendTaskSuccess; Step Functions times
// the task out after the gate's timeout (TimeoutSecondsPath).
//
// Two rules hold whatever the service or an emulator does:
//   - exactly one outcome wins, by a compare-and-set Claim in the TokenStore before any
//     SendTask call (MiniStack accepts repeated SendTaskSuccess on one token);
//   - a gate is expired once the deadline in its execution input has passed; the adapter
//     closes it with SendTaskFailure(ApprovalGate.Expired) if Step Functions has not
//     (MiniStack ignores TimeoutSecondsPath and activity timeouts).
package sfngate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
)

// API is the part of the Step Functions client the gate uses.
type API interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetActivityTask(context.Context, *sfn.GetActivityTaskInput, ...func(*sfn.Options)) (*sfn.GetActivityTaskOutput, error)
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// Config names the provisioned resources and tunes the adapter.
type Config struct {
	StateMachineARN string
	ActivityARN     string
	// WorkerName identifies this process to GetActivityTask; empty means "approvalgate".
	WorkerName string
	// Clock reads the gate deadlines; nil means the system clock.
	Clock clock.Clock
	// TokenWait bounds how long Open and Decide wait for a gate's task token; zero means 30 s.
	TokenWait time.Duration
	// Redrive is how old a claimed decision may get, with the execution still running,
	// before Status sends it again (the decider died between claim and send); zero means 30 s.
	Redrive time.Duration
}

// Gate is the Step Functions approval gate.
type Gate struct {
	client API
	tokens TokenStore
	cfg    Config

	pollMu  sync.Mutex
	polling *poll
}

var _ approvalgate.Gate = (*Gate)(nil)

// New returns a gate over a provisioned state machine and activity (see Provision).
func New(client API, tokens TokenStore, cfg Config) *Gate {
	if cfg.WorkerName == "" {
		cfg.WorkerName = "approvalgate"
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.TokenWait == 0 {
		cfg.TokenWait = 30 * time.Second
	}
	if cfg.Redrive == 0 {
		cfg.Redrive = 30 * time.Second
	}
	return &Gate{client: client, tokens: tokens, cfg: cfg}
}

// execInput is the execution input; the activity task receives it unchanged.
type execInput struct {
	Ref            string          `json:"ref"`
	TimeoutSeconds int64           `json:"timeoutSeconds"`
	ExpiresAt      time.Time       `json:"expiresAt"`
	OpenID         string          `json:"openId"`
	Input          json.RawMessage `json:"input,omitempty"`
}

// decision is the SendTaskSuccess output; the machine routes on Approved.
type decision struct {
	Approved bool            `json:"approved"`
	Output   json.RawMessage `json:"output,omitempty"`
}

// execOutput is what a succeeded execution returns (see Definition).
type execOutput struct {
	Status   approvalgate.Status `json:"status"`
	Decision decision            `json:"decision"`
}

// Open starts the gate's execution and waits until its task token is recorded.
func (g *Gate) Open(ctx context.Context, ref string, timeout time.Duration, input []byte) error {
	if err := approvalgate.CheckOpen(ref, timeout, input); err != nil {
		return err
	}
	secs := int64(math.Ceil(timeout.Seconds()))
	in := execInput{
		Ref: ref, TimeoutSeconds: secs, ExpiresAt: g.cfg.Clock.Now().Add(time.Duration(secs) * time.Second),
		// A fresh id makes every input unique: Step Functions treats a StartExecution with
		// the name and input of a running execution as a retry and succeeds.
		OpenID: newID(), Input: input,
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("open gate %s: %w", ref, err)
	}
	_, err = g.client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(g.cfg.StateMachineARN), Name: aws.String(ref), Input: aws.String(string(raw)),
	})
	if err = translate(err); errors.Is(err, approvalgate.ErrExists) && g.startedBy(ctx, ref, in.OpenID) {
		err = nil // the SDK retried a start whose first response was lost: it is ours
	}
	if err != nil {
		return fmt.Errorf("open gate %s: %w", ref, err)
	}
	if _, err := g.awaitToken(ctx, ref); err != nil {
		return fmt.Errorf("open gate %s: started, but %w", ref, err)
	}
	return nil
}

// Decide claims the gate for this decision, then completes its task.
func (g *Gate) Decide(ctx context.Context, ref string, approved bool, output []byte) error {
	if err := approvalgate.CheckRef(ref); err != nil {
		return err
	}
	if err := approvalgate.CheckDocument(output); err != nil {
		return err
	}
	ex, err := g.describe(ctx, ref)
	if err != nil {
		return fmt.Errorf("decide gate %s: %w", ref, err)
	}
	if st, final := ex.final(); final {
		return fmt.Errorf("decide gate %s: %w", ref, closedErr(st.Status))
	}
	if !g.cfg.Clock.Now().Before(ex.expiresAt) {
		g.expire(ctx, ref)
		return fmt.Errorf("decide gate %s: %w", ref, approvalgate.ErrExpired)
	}
	c := Claim{Status: approvalgate.Denied, Output: output, At: g.cfg.Clock.Now()}
	if approved {
		c.Status = approvalgate.Approved
	}
	winner, won, err := g.tokens.Claim(ctx, ref, c)
	if err != nil {
		return fmt.Errorf("decide gate %s: claim: %w", ref, err)
	}
	if !won {
		return fmt.Errorf("decide gate %s: %w", ref, closedErr(winner.Status))
	}
	err = g.complete(ctx, ref, c)
	switch {
	case errors.Is(err, approvalgate.ErrExpired):
		return fmt.Errorf("decide gate %s: %w", ref, err)
	case err != nil:
		// The claim stands and Status sends it again after Redrive.
		return fmt.Errorf("decide gate %s: decision recorded, delivery failed: %w", ref, err)
	}
	return nil
}

// Status reads the execution. While it runs, the adapter's own deadline and claim decide:
// past the deadline the gate is expired; a claimed decision still undelivered after
// Redrive is sent again.
func (g *Gate) Status(ctx context.Context, ref string) (approvalgate.State, error) {
	if err := approvalgate.CheckRef(ref); err != nil {
		return approvalgate.State{}, err
	}
	ex, err := g.describe(ctx, ref)
	if err != nil {
		return approvalgate.State{}, fmt.Errorf("status of gate %s: %w", ref, err)
	}
	if st, final := ex.final(); final {
		return st, nil
	}
	pending := approvalgate.State{Ref: ref, Status: approvalgate.Pending}
	c, claimed, err := g.tokens.Claimed(ctx, ref)
	if err != nil {
		return approvalgate.State{}, fmt.Errorf("status of gate %s: %w", ref, err)
	}
	switch {
	case !claimed && !g.cfg.Clock.Now().Before(ex.expiresAt):
		if g.expire(ctx, ref) == approvalgate.Expired {
			return approvalgate.State{Ref: ref, Status: approvalgate.Expired}, nil
		}
	case claimed && c.Status == approvalgate.Expired:
		return approvalgate.State{Ref: ref, Status: approvalgate.Expired}, nil
	case claimed && g.cfg.Clock.Now().Sub(c.At) > g.cfg.Redrive:
		_ = g.complete(ctx, ref, c) // best effort; the next Status tries again
	}
	return pending, nil
}

// expire claims the gate as expired and closes its task; it returns the claim that holds.
func (g *Gate) expire(ctx context.Context, ref string) approvalgate.Status {
	winner, won, err := g.tokens.Claim(ctx, ref, Claim{Status: approvalgate.Expired, At: g.cfg.Clock.Now()})
	if err != nil {
		return approvalgate.Pending
	}
	if won {
		// Step Functions may have timed the task out already; either way it is closed.
		_ = g.complete(ctx, ref, winner)
	}
	return winner.Status
}

// complete delivers a claim to the gate's task. A token Step Functions reports closed was
// timed out by it (the claim kept everyone else away), so that is ErrExpired.
func (g *Gate) complete(ctx context.Context, ref string, c Claim) error {
	token, err := g.awaitToken(ctx, ref)
	if err != nil {
		return err
	}
	if c.Status == approvalgate.Expired {
		_, err = g.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
			TaskToken: aws.String(token), Error: aws.String(ErrorExpired), Cause: aws.String("approval gate deadline passed"),
		})
	} else {
		raw, merr := json.Marshal(decision{Approved: c.Status == approvalgate.Approved, Output: c.Output})
		if merr != nil {
			return merr
		}
		_, err = g.client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(raw))})
	}
	if err = translate(err); errors.Is(err, approvalgate.ErrExpired) && c.Status != approvalgate.Expired && g.settledAs(ctx, ref, c) {
		err = nil // the SDK retried a completion whose first response was lost: it landed
	}
	if err != nil {
		return fmt.Errorf("complete task: %w", err)
	}
	return nil
}

// startedBy tells whether the gate's execution is the one this Open started (its input
// carries openID): a retried StartExecution meets its own first attempt.
func (g *Gate) startedBy(ctx context.Context, ref, openID string) bool {
	ex, err := g.describe(ctx, ref)
	return err == nil && ex.openID == openID
}

// settleWait bounds how long settledAs waits for an execution to show a completion.
const settleWait = 3 * time.Second

// settledAs tells whether the gate's execution ended with c's decision, waiting briefly
// for a task completed a moment ago to finish its execution. A token Step Functions no
// longer knows is either one this claim already completed (the first attempt's response
// was lost and the SDK retried) or one it timed out; only the execution's end tells them
// apart. The status is enough: c won the gate's only claim, so no other decision exists.
func (g *Gate) settledAs(ctx context.Context, ref string, c Claim) bool {
	ctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	tick := time.NewTicker(tokenCheck)
	defer tick.Stop()
	for {
		ex, err := g.describe(ctx, ref)
		if err != nil {
			return false
		}
		if st, final := ex.final(); final {
			return st.Status == c.Status
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
}

// compact is doc in the compact form final hands back ("" and null as nothing).
func compact(doc []byte) []byte {
	var buf bytes.Buffer
	if len(doc) == 0 || string(doc) == "null" || json.Compact(&buf, doc) != nil {
		return nil
	}
	return buf.Bytes()
}

// execution is what the adapter needs from DescribeExecution.
type execution struct {
	ref       string
	openID    string
	status    types.ExecutionStatus
	errorName string
	output    string
	expiresAt time.Time
}

func (g *Gate) describe(ctx context.Context, ref string) (execution, error) {
	out, err := g.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(g.executionARN(ref))})
	if err != nil {
		return execution{}, translate(err)
	}
	var in execInput
	if err := json.Unmarshal([]byte(aws.ToString(out.Input)), &in); err != nil {
		return execution{}, fmt.Errorf("execution input: %w", err)
	}
	return execution{ref: ref, openID: in.OpenID, status: out.Status, errorName: aws.ToString(out.Error),
		output: aws.ToString(out.Output), expiresAt: in.ExpiresAt}, nil
}

// final maps a finished execution onto the gate's state. Any end other than a decision
// (States.Timeout, the adapter's ApprovalGate.Expired, an abort) leaves a gate nobody can
// approve any more: expired.
func (ex execution) final() (approvalgate.State, bool) {
	st := approvalgate.State{Ref: ex.ref}
	switch ex.status {
	case types.ExecutionStatusRunning, types.ExecutionStatusPendingRedrive:
		return st, false
	case types.ExecutionStatusSucceeded:
		// MiniStack sets the status a moment before the output; until the output shows,
		// the execution is still settling, not a gate that ended without a decision.
		if ex.output == "" {
			return st, false
		}
		var out execOutput
		if err := json.Unmarshal([]byte(ex.output), &out); err != nil || (out.Status != approvalgate.Approved && out.Status != approvalgate.Denied) {
			st.Status = approvalgate.Expired
			return st, true
		}
		st.Status = out.Status
		// Step Functions re-serializes documents; hand back the compact form.
		st.Output = compact(out.Decision.Output)
		return st, true
	default:
		st.Status = approvalgate.Expired
		return st, true
	}
}

func closedErr(s approvalgate.Status) error {
	if s == approvalgate.Expired {
		return approvalgate.ErrExpired
	}
	return approvalgate.ErrDecided
}

// executionARN derives the execution's ARN from the machine's: the execution name is ref.
func (g *Gate) executionARN(ref string) string {
	return strings.Replace(g.cfg.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + ref
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// translate maps Step Functions errors onto the port's, keeping the SDK error for logs.
func translate(err error) error {
	var apiErr smithy.APIError
	if err == nil || !errors.As(err, &apiErr) {
		return err
	}
	switch apiErr.ErrorCode() {
	case "ExecutionAlreadyExists":
		return fmt.Errorf("%w: %w", approvalgate.ErrExists, err)
	case "ExecutionDoesNotExist":
		return fmt.Errorf("%w: %w", approvalgate.ErrNotFound, err)
	case "InvalidName", "InvalidExecutionInput", "InvalidOutput", "ValidationException":
		return fmt.Errorf("%w: %w", approvalgate.ErrInvalid, err)
	case "TaskTimedOut", "TaskDoesNotExist", "InvalidToken":
		return fmt.Errorf("%w: %w", approvalgate.ErrExpired, err)
	}
	return err
}
