package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Get returns the live item with the key, read consistently.
func (s *Store) Get(ctx context.Context, pk, sk string) (itemstore.Item, error) {
	if err := itemstore.ValidateKey(pk, sk); err != nil {
		return itemstore.Item{}, fmt.Errorf("get: %w", err)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return itemstore.Item{}, translate(fmt.Sprintf("get %s/%s", pk, sk), err)
	}
	if out.Item == nil {
		return itemstore.Item{}, fmt.Errorf("get %s/%s: %w", pk, sk, itemstore.ErrNotFound)
	}
	it, err := itemFrom(fromDynamo(out.Item))
	if err != nil {
		return itemstore.Item{}, err
	}
	// DynamoDB deletes expired items lazily (within days), so expiry is decided here.
	if !it.LiveAt(s.clk.Now()) {
		return itemstore.Item{}, fmt.Errorf("get %s/%s: expired: %w", pk, sk, itemstore.ErrNotFound)
	}
	return it, nil
}

// Query returns one page of live items of a partition in sort-key order. It asks DynamoDB
// for one item more than the page, so Next is empty exactly when nothing follows, and keeps
// asking while the expiry filter leaves the page short.
func (s *Store) Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error) {
	if err := itemstore.ValidateQuery(q); err != nil {
		return itemstore.Page{}, err
	}
	if q.Limit == 0 {
		q.Limit = itemstore.DefaultQueryLimit
	}
	in, err := s.queryInput(q)
	if err != nil {
		return itemstore.Page{}, err
	}
	var items []itemstore.Item
	for len(items) <= q.Limit {
		in.Limit = aws.Int32(int32(q.Limit + 1 - len(items)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return itemstore.Page{}, translate(fmt.Sprintf("query %s %q", q.Index, q.PK), err)
		}
		for _, av := range out.Items {
			it, err := itemFrom(fromDynamo(av))
			if err != nil {
				return itemstore.Page{}, err
			}
			items = append(items, it)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(items) <= q.Limit {
		return itemstore.Page{Items: items}, nil
	}
	items = items[:q.Limit]
	next, err := itemstore.EncodeCursor(q.Index, items[len(items)-1])
	return itemstore.Page{Items: items, Next: next}, err
}

func (s *Store) queryInput(q itemstore.Query) (*dynamodb.QueryInput, error) {
	e := newExpr()
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String(keyCondition(e, q)),
		// Expired items DynamoDB has not deleted yet. A filter may name expires_at, not a key.
		FilterExpression: aws.String(e.live(s.clk.Now().Unix())),
		ScanIndexForward: aws.Bool(!q.Desc),
	}
	if q.Index == itemstore.GSI1 {
		in.IndexName = aws.String(itemstore.GSI1)
	} else {
		in.ConsistentRead = aws.Bool(true) // a GSI cannot be read consistently
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = e.Names(), e.Values()
	if q.Cursor != "" {
		start, err := startKey(q)
		if err != nil {
			return nil, err
		}
		in.ExclusiveStartKey = start
	}
	return in, nil
}

func keyCondition(e *expr, q itemstore.Query) string {
	pk, sk := AttrPK, AttrSK
	if q.Index == itemstore.GSI1 {
		pk, sk = AttrGSI1PK, AttrGSI1SK
	}
	c := e.n(pk) + " = " + e.v("pk", strAttr(q.PK))
	switch {
	case q.SKPrefix != "":
		c += " AND begins_with(" + e.n(sk) + ", " + e.v("prefix", strAttr(q.SKPrefix)) + ")"
	case q.SKFrom != "" && q.SKTo != "":
		c += " AND " + e.n(sk) + " BETWEEN " + e.v("from", strAttr(q.SKFrom)) + " AND " + e.v("to", strAttr(q.SKTo))
	case q.SKFrom != "":
		c += " AND " + e.n(sk) + " >= " + e.v("from", strAttr(q.SKFrom))
	case q.SKTo != "":
		c += " AND " + e.n(sk) + " <= " + e.v("to", strAttr(q.SKTo))
	}
	return c
}

// startKey turns q's cursor into DynamoDB's ExclusiveStartKey.
func startKey(q itemstore.Query) (map[string]types.AttributeValue, error) {
	c, err := itemstore.DecodeCursor(q)
	if err != nil {
		return nil, err
	}
	start := keyOf(c.PK, c.SK)
	if q.Index == itemstore.GSI1 {
		start[AttrGSI1PK], start[AttrGSI1SK] = strAttr(c.GSI1PK), strAttr(c.GSI1SK)
	}
	return start, nil
}
