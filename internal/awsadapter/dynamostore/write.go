package dynamostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// maxRounds bounds the retries of an unconditional put whose key keeps appearing and
// disappearing under it (see putAlways).
const maxRounds = 20

// Put writes the whole item if its condition holds and returns it as stored.
func (s *Store) Put(ctx context.Context, w itemstore.Write) (itemstore.Item, error) {
	if w.Kind != itemstore.Put {
		return itemstore.Item{}, fmt.Errorf("put %s/%s with write kind %d: %w", w.Item.PK, w.Item.SK, w.Kind, itemstore.ErrInvalid)
	}
	if err := itemstore.ValidateWrite(w); err != nil {
		return itemstore.Item{}, err
	}
	if w.Cond == itemstore.Always {
		return s.putAlways(ctx, w.Item)
	}
	return s.update(ctx, w.Item, w.Cond, w.ExpectVersion)
}

// putAlways numbers the version from the live item, or from 1 when there is none. One update
// expression cannot choose between "ver + 1" and "1" on liveness, so it tries each guarded by
// the liveness it assumes; a guard fails only when another writer just flipped it.
func (s *Store) putAlways(ctx context.Context, it itemstore.Item) (itemstore.Item, error) {
	var err error
	for range maxRounds {
		for _, assume := range []itemstore.Condition{itemstore.IfExists, itemstore.IfAbsent} {
			var out itemstore.Item
			if out, err = s.update(ctx, it, assume, 0); !errors.Is(err, itemstore.ErrConflict) {
				return out, err
			}
		}
	}
	return itemstore.Item{}, fmt.Errorf("put %s/%s: key kept changing for %d rounds: %w", it.PK, it.SK, maxRounds, err)
}

// update is one conditional UpdateItem.
//
// A conditional write is not idempotent, and the SDK retries a request whose response was
// lost (a connection reset or closed while the body was read is retryable). When the first
// attempt was applied, the retry fails its own condition (the item now exists, or has moved
// past the expected version), and reporting that as ErrConflict would tell the caller its
// write lost a race it in fact won: a sealer would then leave its own lease standing and
// seal nothing, for example. So a retried write that fails its condition asks DynamoDB for
// the item that failed it (ReturnValuesOnConditionCheckFailure, atomic with the check) and
// counts as done when that item is exactly what this write stores at the version it gives.
// If another writer has already replaced it, the conflict stands: the caller re-reads and
// sees a state that followed ours.
func (s *Store) update(ctx context.Context, it itemstore.Item, c itemstore.Condition, expect int64) (itemstore.Item, error) {
	e := newExpr()
	cond := e.condition(c, expect, s.clk.Now().Unix())
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf(it.PK, it.SK),
		UpdateExpression:          aws.String(e.replace(it, c)),
		ConditionExpression:       optional(cond),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ReturnValues:              types.ReturnValueAllNew,
	}
	if cond != "" {
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	var attempts atomic.Int32
	out, err := s.db.UpdateItem(ctx, in, countAttempts(&attempts))
	if err != nil {
		if stored, ok := appliedByEarlierAttempt(err, attempts.Load(), it, c, expect); ok {
			return stored, nil
		}
		return itemstore.Item{}, translate(fmt.Sprintf("put %s/%s", it.PK, it.SK), err)
	}
	return itemFrom(fromDynamo(out.Attributes))
}

// countAttempts counts the HTTP attempts the SDK makes for one call (it runs after the
// retry middleware, so once per attempt).
func countAttempts(n *atomic.Int32) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("dynamostore:CountAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					n.Add(1)
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
}

// appliedByEarlierAttempt reports whether a conditional put that the SDK sent more than once
// failed its condition only because an earlier attempt of the same call had been applied:
// the item that failed the condition is the one this put writes, at the version it gives
// (1 for IfAbsent, the expected version + 1 for IfVersion). It returns that item.
func appliedByEarlierAttempt(err error, attempts int32, it itemstore.Item, c itemstore.Condition, expect int64) (itemstore.Item, bool) {
	var ccf *types.ConditionalCheckFailedException
	if attempts < 2 || !errors.As(err, &ccf) || ccf.Item == nil {
		return itemstore.Item{}, false
	}
	var want int64
	switch c {
	case itemstore.IfAbsent:
		want = 1
	case itemstore.IfVersion:
		want = expect + 1
	default:
		return itemstore.Item{}, false
	}
	stored, derr := itemFrom(fromDynamo(ccf.Item))
	if derr != nil || stored.PK != it.PK || stored.SK != it.SK || stored.Version != want ||
		!bytes.Equal(stored.Data, it.Data) || stored.GSI1PK != it.GSI1PK || stored.GSI1SK != it.GSI1SK ||
		itemstore.ExpirySeconds(stored.ExpiresAt) != itemstore.ExpirySeconds(it.ExpiresAt) {
		return itemstore.Item{}, false
	}
	return stored, true
}

// Delete removes the item if its condition holds. Deleting a missing item is not an error.
func (s *Store) Delete(ctx context.Context, w itemstore.Write) error {
	w, err := itemstore.ValidateDelete(w)
	if err != nil {
		return err
	}
	e := newExpr()
	cond := e.condition(w.Cond, w.ExpectVersion, s.clk.Now().Unix())
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf(w.Item.PK, w.Item.SK),
		ConditionExpression:       optional(cond),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	})
	if err != nil {
		return translate(fmt.Sprintf("delete %s/%s", w.Item.PK, w.Item.SK), err)
	}
	return nil
}

// Transact applies the writes in one TransactWriteItems call. Unconditional puts are first
// resolved, from a consistent read, into a put guarded by the liveness it saw (see
// putAlways). When only such guards failed, or a concurrent transaction on the same items
// cancelled this one, nothing was written and no caller condition failed, so the whole
// transaction is resolved and tried again.
func (s *Store) Transact(ctx context.Context, writes []itemstore.Write) error {
	if len(writes) == 0 {
		return nil
	}
	if err := itemstore.ValidateTransact(writes); err != nil {
		return err
	}
	var err error
	for round := range maxRounds {
		if err := backoff(ctx, round); err != nil {
			return fmt.Errorf("transaction of %d writes: %w", len(writes), err)
		}
		var conds []itemstore.Condition
		if conds, err = s.resolve(ctx, writes); err != nil {
			return err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: s.transactItems(writes, conds),
		})
		if err == nil {
			return nil
		}
		if !retryable(err, writes) {
			return translate(fmt.Sprintf("transaction of %d writes", len(writes)), err)
		}
	}
	return fmt.Errorf("transaction of %d writes: keys kept changing for %d rounds: %w: %w", len(writes), maxRounds, itemstore.ErrConflict, err)
}

// resolve returns the condition each write is sent with.
func (s *Store) resolve(ctx context.Context, writes []itemstore.Write) ([]itemstore.Condition, error) {
	conds := make([]itemstore.Condition, len(writes))
	for i, w := range writes {
		conds[i] = w.Cond
		if w.Kind != itemstore.Put || w.Cond != itemstore.Always {
			continue
		}
		_, err := s.Get(ctx, w.Item.PK, w.Item.SK)
		switch {
		case err == nil:
			conds[i] = itemstore.IfExists
		case errors.Is(err, itemstore.ErrNotFound):
			conds[i] = itemstore.IfAbsent
		default:
			return nil, fmt.Errorf("transaction entry %d: %w", i, err)
		}
	}
	return conds, nil
}

func (s *Store) transactItems(writes []itemstore.Write, conds []itemstore.Condition) []types.TransactWriteItem {
	now := s.clk.Now().Unix()
	items := make([]types.TransactWriteItem, len(writes))
	for i, w := range writes {
		e := newExpr()
		cond := e.condition(conds[i], w.ExpectVersion, now)
		key, table := keyOf(w.Item.PK, w.Item.SK), aws.String(s.table)
		switch w.Kind {
		case itemstore.Put:
			update := e.replace(w.Item, conds[i])
			items[i].Update = &types.Update{TableName: table, Key: key, UpdateExpression: aws.String(update),
				ConditionExpression: optional(cond), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}
		case itemstore.Delete:
			items[i].Delete = &types.Delete{TableName: table, Key: key,
				ConditionExpression: optional(cond), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}
		case itemstore.Check:
			items[i].ConditionCheck = &types.ConditionCheck{TableName: table, Key: key,
				ConditionExpression: aws.String(cond), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}
		}
	}
	return items
}

// retryable reports whether a transaction was cancelled only by the liveness guards resolve
// added to unconditional puts, or by a concurrent transaction (TransactionConflict, which
// DynamoDB does not retry itself), rather than by a condition the caller asked for.
func retryable(err error, writes []itemstore.Write) bool {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) || len(canceled.CancellationReasons) != len(writes) {
		return false
	}
	retry := false
	for i, r := range canceled.CancellationReasons {
		switch c := code(r.Code); {
		case c == "" || c == "None":
		case c == "TransactionConflict",
			c == "ConditionalCheckFailed" && writes[i].Kind == itemstore.Put && writes[i].Cond == itemstore.Always:
			retry = true
		default:
			return false
		}
	}
	return retry
}

// backoff waits a little longer each round after the first, so racing transactions spread out.
func backoff(ctx context.Context, round int) error {
	if round == 0 {
		return nil
	}
	d := time.Duration(round)*5*time.Millisecond + time.Duration(rand.Int64N(int64(5*time.Millisecond)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
