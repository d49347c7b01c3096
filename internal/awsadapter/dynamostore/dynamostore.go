// Package dynamostore is the AWS adapter of the item store port: one DynamoDB table with
// conditional writes, transactions, the gsi1 index and TTL, and its DynamoDB stream
// (NEW_AND_OLD_IMAGES) as the change feed.
//
// Table layout (the CDK app and the stream consumer rely on it): pk (S, hash key), sk (S,
// range key), gsi1 on gsi1pk (S) / gsi1sk (S) projecting ALL, TTL on expires_at (N, epoch
// seconds), ver (N), data (S, the JSON document).
package dynamostore

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Attribute names of the table layout.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrGSI1PK    = "gsi1pk"
	AttrGSI1SK    = "gsi1sk"
	AttrExpiresAt = "expires_at"
	AttrVersion   = "ver"
	AttrData      = "data"
)

var _ itemstore.Store = (*Store)(nil)

// Store is the item store on one DynamoDB table. Safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	clk   clock.Clock
}

// New returns the store on table (dynamofeed reads its change feed). clk decides expiry on
// reads and in write conditions, as DynamoDB's own TTL deletion is lazy.
func New(client *dynamodb.Client, table string, clk clock.Clock) *Store {
	return &Store{db: client, table: table, clk: clk}
}

// scalar is one attribute value of the layout, whichever SDK shape it came in: every
// attribute is a string (S) or a number (N).
type scalar struct {
	s     string
	isNum bool
}

func fromDynamo(m map[string]types.AttributeValue) map[string]scalar {
	out := make(map[string]scalar, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = scalar{s: v.Value}
		case *types.AttributeValueMemberN:
			out[k] = scalar{s: v.Value, isNum: true}
		}
	}
	return out
}

// itemFrom reads an item from its attributes, refusing what this layout never writes.
func itemFrom(m map[string]scalar) (itemstore.Item, error) {
	var it itemstore.Item
	str := func(name string, required bool) (string, error) {
		v, ok := m[name]
		if (!ok && required) || (ok && v.isNum) {
			return "", fmt.Errorf("attribute %s: want a string, have %+v", name, v)
		}
		return v.s, nil
	}
	num := func(name string, required bool) (int64, error) {
		v, ok := m[name]
		if !ok && !required {
			return 0, nil
		}
		n, err := strconv.ParseInt(v.s, 10, 64)
		if !ok || !v.isNum || err != nil {
			return 0, fmt.Errorf("attribute %s: want an integer, have %+v", name, v)
		}
		return n, nil
	}
	var exp int64
	var data string
	var errs [7]error
	it.PK, errs[0] = str(AttrPK, true)
	it.SK, errs[1] = str(AttrSK, true)
	it.GSI1PK, errs[2] = str(AttrGSI1PK, false)
	it.GSI1SK, errs[3] = str(AttrGSI1SK, false)
	data, errs[4] = str(AttrData, false)
	exp, errs[5] = num(AttrExpiresAt, false)
	it.Version, errs[6] = num(AttrVersion, true)
	if err := errors.Join(errs[:]...); err != nil {
		return itemstore.Item{}, fmt.Errorf("decode item %s/%s: %w", it.PK, it.SK, err)
	}
	it.Data, it.ExpiresAt = []byte(data), itemstore.ExpiryFromSeconds(exp)
	return it, nil
}

func numAttr(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func strAttr(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: strAttr(pk), AttrSK: strAttr(sk)}
}

// translate maps SDK errors to the port's errors, keeping the SDK error for the log.
func translate(op string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	var conflict *types.TransactionConflictException
	var canceled *types.TransactionCanceledException
	var api smithy.APIError
	switch {
	case errors.As(err, &ccf), errors.As(err, &conflict):
		return fmt.Errorf("%s: %w: %w", op, itemstore.ErrConflict, err)
	case errors.As(err, &canceled):
		if e := canceledAs(canceled); e != nil {
			return fmt.Errorf("%s: %w: %w", op, e, err)
		}
	case errors.As(err, &api) && api.ErrorCode() == "ValidationException":
		return fmt.Errorf("%s: %w: %w", op, itemstore.ErrInvalid, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// canceledAs says which port error a cancelled transaction is, from its reasons: a bad
// entry is ErrInvalid, a failed condition or a concurrent transaction ErrConflict, anything
// else (throttling, capacity) stays an infrastructure error.
func canceledAs(e *types.TransactionCanceledException) error {
	var out error
	for _, r := range e.CancellationReasons {
		switch code(r.Code) {
		case "ValidationError":
			return itemstore.ErrInvalid
		case "ConditionalCheckFailed", "TransactionConflict":
			out = itemstore.ErrConflict
		}
	}
	return out
}

func code(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
