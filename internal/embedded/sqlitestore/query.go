package sqlitestore

import (
	"context"
	"fmt"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Query returns one page of live items of a partition in sort-key order.
func (s *Store) Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error) {
	if err := itemstore.ValidateQuery(q); err != nil {
		return itemstore.Page{}, err
	}
	if q.Limit == 0 {
		q.Limit = itemstore.DefaultQueryLimit
	}
	sqlText, args, err := buildQuery(q, s.clk.Now().Unix())
	if err != nil {
		return itemstore.Page{}, err
	}
	items, err := s.selectItems(ctx, sqlText, args)
	if err != nil {
		return itemstore.Page{}, fmt.Errorf("query %s %q: %w", q.Index, q.PK, err)
	}
	// One row more than the page tells whether a next page exists, so Next is empty exactly
	// when nothing follows.
	if len(items) <= q.Limit {
		return itemstore.Page{Items: items}, nil
	}
	items = items[:q.Limit]
	next, err := itemstore.EncodeCursor(q.Index, items[len(items)-1])
	return itemstore.Page{Items: items, Next: next}, err
}

// buildQuery writes the SELECT for q. On GSI1 the order is (gsi1sk, pk, sk), so items that
// share a GSI1 sort key still page deterministically.
func buildQuery(q itemstore.Query, nowSec int64) (string, []any, error) {
	pkCol, skCol, order := "pk", "sk", []string{"sk"}
	if q.Index == itemstore.GSI1 {
		pkCol, skCol, order = "gsi1pk", "gsi1sk", []string{"gsi1sk", "pk", "sk"}
	}
	where := []string{pkCol + " = ?", "(expires_at = 0 OR expires_at > ?)"}
	args := []any{q.PK, nowSec}
	add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
	if q.SKPrefix != "" {
		add(skCol+" >= ?", q.SKPrefix)
		if end, ok := prefixEnd(q.SKPrefix); ok {
			add(skCol+" < ?", end)
		}
	}
	if q.SKFrom != "" {
		add(skCol+" >= ?", q.SKFrom)
	}
	if q.SKTo != "" {
		add(skCol+" <= ?", q.SKTo)
	}
	dir, cmp := " ASC", ">"
	if q.Desc {
		dir, cmp = " DESC", "<"
	}
	if q.Cursor != "" {
		c, err := itemstore.DecodeCursor(q)
		if err != nil {
			return "", nil, err
		}
		if q.Index == itemstore.GSI1 {
			add("(gsi1sk, pk, sk) "+cmp+" (?, ?, ?)", c.GSI1SK, c.PK, c.SK)
		} else {
			add("sk "+cmp+" ?", c.SK)
		}
	}
	text := selectItem + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + strings.Join(order, dir+", ") + dir + " LIMIT ?"
	return text, append(args, q.Limit+1), nil
}

// prefixEnd is the least string greater than every string with the prefix (bytewise, as
// SQLite's BINARY collation and DynamoDB compare), and false when there is none.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

func (s *Store) selectItems(ctx context.Context, text string, args []any) ([]itemstore.Item, error) {
	rows, err := s.r.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []itemstore.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}
