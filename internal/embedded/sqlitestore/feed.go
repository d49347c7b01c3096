package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// image is an item as the change table keeps it, named like the DynamoDB attributes.
type image struct {
	PK        string `json:"pk"`
	SK        string `json:"sk"`
	GSI1PK    string `json:"gsi1pk,omitempty"`
	GSI1SK    string `json:"gsi1sk,omitempty"`
	ExpiresAt int64  `json:"expires_at,omitempty"`
	Version   int64  `json:"ver"`
	Data      string `json:"data"`
}

func toImage(it *itemstore.Item) (sql.NullString, error) {
	if it == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(image{PK: it.PK, SK: it.SK, GSI1PK: it.GSI1PK, GSI1SK: it.GSI1SK,
		ExpiresAt: itemstore.ExpirySeconds(it.ExpiresAt), Version: it.Version, Data: string(it.Data)})
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode change image of %s/%s: %w", it.PK, it.SK, err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func fromImage(s sql.NullString) (*itemstore.Item, error) {
	if !s.Valid {
		return nil, nil
	}
	var im image
	if err := json.Unmarshal([]byte(s.String), &im); err != nil {
		return nil, fmt.Errorf("decode change image: %w", err)
	}
	return &itemstore.Item{PK: im.PK, SK: im.SK, GSI1PK: im.GSI1PK, GSI1SK: im.GSI1SK,
		ExpiresAt: itemstore.ExpiryFromSeconds(im.ExpiresAt), Version: im.Version, Data: []byte(im.Data)}, nil
}

// record appends a change inside the item write's transaction: both commit or neither.
func record(ctx context.Context, tx *sql.Tx, kind itemstore.ChangeKind, pk, sk string, before, after *itemstore.Item, now time.Time) error {
	o, err := toImage(before)
	if err != nil {
		return err
	}
	n, err := toImage(after)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO changes (kind, pk, sk, old, new, at_unix) VALUES (?, ?, ?, ?, ?, ?)`,
		string(kind), pk, sk, o, n, now.UnixNano())
	if err != nil {
		return fmt.Errorf("record %s of %s/%s: %w", kind, pk, sk, err)
	}
	return nil
}

// Feed page sizes, DynamoDB Streams' GetRecords limits.
const (
	defaultFeedLimit = 100
	maxFeedLimit     = 1000
)

// ReadChanges returns up to limit changes after cursor (a sequence number; "" = the start)
// in commit order, and the cursor to resume from. limit <= 0 means 100; at most 1000.
func (s *Store) ReadChanges(ctx context.Context, cur string, limit int) ([]itemstore.Change, string, error) {
	var after int64
	if cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("change feed cursor %q: %w", cur, itemstore.ErrInvalid)
		}
		after = n
	}
	if limit <= 0 {
		limit = defaultFeedLimit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, kind, pk, sk, old, new, at_unix FROM changes
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, min(limit, maxFeedLimit))
	if err != nil {
		return nil, "", fmt.Errorf("read changes after %d: %w", after, err)
	}
	defer rows.Close()
	var out []itemstore.Change
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, "", fmt.Errorf("read changes after %d: %w", after, err)
		}
		out = append(out, c)
		cur = c.Seq
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("read changes after %d: %w", after, err)
	}
	return out, cur, nil
}

func scanChange(sc scanner) (itemstore.Change, error) {
	var c itemstore.Change
	var seq, at int64
	var kind string
	var before, after sql.NullString
	if err := sc.Scan(&seq, &kind, &c.PK, &c.SK, &before, &after, &at); err != nil {
		return c, err
	}
	c.Seq, c.Kind, c.At = strconv.FormatInt(seq, 10), itemstore.ChangeKind(kind), time.Unix(0, at).UTC()
	var err error
	if c.Old, err = fromImage(before); err != nil {
		return c, err
	}
	c.New, err = fromImage(after)
	return c, err
}

// sweepBatch bounds how long one sweep transaction holds the writer.
const sweepBatch = 500

// SweepExpired physically deletes expired items and records a REMOVE change for each, as
// DynamoDB's TTL process does. It returns how many items it removed.
func (s *Store) SweepExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
			var err error
			n, err = sweepOnce(ctx, tx, now)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("sweep expired items: %w", err)
		}
		if n < sweepBatch {
			return total, nil
		}
	}
}

func sweepOnce(ctx context.Context, tx *sql.Tx, now time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, selectItem+` WHERE expires_at > 0 AND expires_at <= ? LIMIT ?`, now.Unix(), sweepBatch)
	if err != nil {
		return 0, err
	}
	var expired []itemstore.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		expired = append(expired, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for i := range expired {
		if err := deleteItem(ctx, tx, &expired[i], now); err != nil {
			return 0, err
		}
	}
	return len(expired), nil
}

// TrimChanges deletes feed entries up to and including cursor that were written before
// olderThan, and returns how many went. The feed would otherwise grow for ever; DynamoDB
// Streams likewise drops records after 24 hours. Only a consumer whose cursor is past them
// may trim, so nothing unread is lost.
func (s *Store) TrimChanges(ctx context.Context, cursor string, olderThan time.Time) (int64, error) {
	through, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || through < 0 {
		return 0, fmt.Errorf("trim change feed through %q: %w", cursor, itemstore.ErrInvalid)
	}
	var n int64
	err = s.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE seq <= ? AND at_unix < ?`, through, olderThan.UnixNano())
		if err != nil {
			return fmt.Errorf("trim change feed: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
