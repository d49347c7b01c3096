package sfngate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
)

// pollTimeout outlasts GetActivityTask's 60 s long poll.
const pollTimeout = 70 * time.Second

// tokenCheck is how often a waiter looks in the store for a token another poller recorded.
const tokenCheck = 200 * time.Millisecond

// poll is one GetActivityTask call, shared by every waiter in this process.
type poll struct {
	done chan struct{}
	err  error
}

// awaitToken returns ref's task token, polling the activity until some poller (this
// process or another) has recorded it.
func (g *Gate) awaitToken(ctx context.Context, ref string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.TokenWait)
	defer cancel()
	tick := time.NewTicker(tokenCheck)
	defer tick.Stop()
	for {
		token, err := g.tokens.Token(ctx, ref)
		if err == nil {
			return token, nil
		}
		if !errors.Is(err, ErrNoToken) {
			return "", fmt.Errorf("task token: %w", err)
		}
		p := g.startPoll()
		select {
		case <-p.done:
			if p.err != nil {
				return "", fmt.Errorf("poll activity: %w", p.err)
			}
		case <-tick.C:
		case <-ctx.Done():
			return "", fmt.Errorf("no task token for %s: %w", ref, ctx.Err())
		}
	}
}

// startPoll joins the poll in flight or starts one. The poll runs detached from the
// waiter's context: abandoning a long poll can lose the task it was about to receive, so
// it always runs to the end and records what it got.
func (g *Gate) startPoll() *poll {
	g.pollMu.Lock()
	defer g.pollMu.Unlock()
	if g.polling != nil {
		return g.polling
	}
	p := &poll{done: make(chan struct{})}
	g.polling = p
	go func() {
		p.err = g.pollOnce()
		g.pollMu.Lock()
		g.polling = nil
		g.pollMu.Unlock()
		close(p.done)
	}()
	return p
}

// pollOnce takes one task from the activity and records its token under the gate ref
// found in its input, whichever gate that is.
func (g *Gate) pollOnce() error {
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
	defer cancel()
	out, err := g.client.GetActivityTask(ctx, &sfn.GetActivityTaskInput{
		ActivityArn: aws.String(g.cfg.ActivityARN), WorkerName: aws.String(g.cfg.WorkerName),
	})
	if err != nil {
		return err
	}
	token := aws.ToString(out.TaskToken)
	if token == "" {
		return nil // the long poll ended without a task
	}
	var in execInput
	if err := json.Unmarshal([]byte(aws.ToString(out.Input)), &in); err != nil || approvalgate.CheckRef(in.Ref) != nil {
		// Nobody can ever decide a task that names no gate; fail it rather than leave it hanging.
		_, ferr := g.client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
			TaskToken: aws.String(token), Error: aws.String(ErrorBadTask), Cause: aws.String("task input names no approval gate"),
		})
		return ferr
	}
	return g.tokens.PutToken(ctx, in.Ref, token)
}
