package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

const selectItem = `SELECT pk, sk, gsi1pk, gsi1sk, expires_at, ver, data FROM items`

type scanner interface{ Scan(dest ...any) error }

// rowLoader runs the prepared single-item select (on the read pool, or bound to a write
// transaction). Preparing once matters: parsing the SQL cost as much as running it.
type rowLoader interface {
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

func scanItem(sc scanner) (itemstore.Item, error) {
	var it itemstore.Item
	var gpk, gsk sql.NullString
	var exp int64
	if err := sc.Scan(&it.PK, &it.SK, &gpk, &gsk, &exp, &it.Version, &it.Data); err != nil {
		return itemstore.Item{}, err
	}
	it.GSI1PK, it.GSI1SK, it.ExpiresAt = gpk.String, gsk.String, itemstore.ExpiryFromSeconds(exp)
	return it, nil
}

// load returns the stored row for a key, live or expired, or nil when there is none.
func load(ctx context.Context, q rowLoader, pk, sk string) (*itemstore.Item, error) {
	it, err := scanItem(q.QueryRowContext(ctx, pk, sk))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load item %s/%s: %w", pk, sk, err)
	}
	return &it, nil
}

// Get returns the live item with the key.
func (s *Store) Get(ctx context.Context, pk, sk string) (itemstore.Item, error) {
	if err := itemstore.ValidateKey(pk, sk); err != nil {
		return itemstore.Item{}, fmt.Errorf("get: %w", err)
	}
	it, err := load(ctx, s.getR, pk, sk)
	if err != nil {
		return itemstore.Item{}, err
	}
	if it == nil || !it.LiveAt(s.clk.Now()) {
		return itemstore.Item{}, fmt.Errorf("get %s/%s: %w", pk, sk, itemstore.ErrNotFound)
	}
	return *it, nil
}

// Put writes the whole item if its condition holds and returns it as stored.
func (s *Store) Put(ctx context.Context, w itemstore.Write) (itemstore.Item, error) {
	if w.Kind != itemstore.Put {
		return itemstore.Item{}, fmt.Errorf("put %s/%s with write kind %d: %w", w.Item.PK, w.Item.SK, w.Kind, itemstore.ErrInvalid)
	}
	if err := itemstore.ValidateWrite(w); err != nil {
		return itemstore.Item{}, err
	}
	var out itemstore.Item
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		cur, err := load(ctx, tx.StmtContext(ctx, s.getW), w.Item.PK, w.Item.SK)
		if err != nil {
			return err
		}
		if err := holds(w, cur, now); err != nil {
			return err
		}
		out, err = putItem(ctx, tx, w.Item, cur, now)
		return err
	})
	return out, err
}

// Delete removes the item if its condition holds. Deleting a missing item is not an error.
func (s *Store) Delete(ctx context.Context, w itemstore.Write) error {
	w, err := itemstore.ValidateDelete(w)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		cur, err := load(ctx, tx.StmtContext(ctx, s.getW), w.Item.PK, w.Item.SK)
		if err != nil {
			return err
		}
		if err := holds(w, cur, now); err != nil {
			return err
		}
		return deleteItem(ctx, tx, cur, now)
	})
}

// Transact checks every condition first, then applies every write, in one SQL transaction.
func (s *Store) Transact(ctx context.Context, writes []itemstore.Write) error {
	if len(writes) == 0 {
		return nil
	}
	if err := itemstore.ValidateTransact(writes); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		curs := make([]*itemstore.Item, len(writes))
		for i, w := range writes {
			cur, err := load(ctx, tx.StmtContext(ctx, s.getW), w.Item.PK, w.Item.SK)
			if err != nil {
				return err
			}
			if err := holds(w, cur, now); err != nil {
				return fmt.Errorf("transaction entry %d: %w", i, err)
			}
			curs[i] = cur
		}
		for i, w := range writes {
			if err := apply(ctx, tx, w, curs[i], now); err != nil {
				return fmt.Errorf("transaction entry %d: %w", i, err)
			}
		}
		return nil
	})
}

func apply(ctx context.Context, tx *sql.Tx, w itemstore.Write, cur *itemstore.Item, now time.Time) error {
	switch w.Kind {
	case itemstore.Put:
		_, err := putItem(ctx, tx, w.Item, cur, now)
		return err
	case itemstore.Delete:
		return deleteItem(ctx, tx, cur, now)
	}
	return nil // a Check writes nothing
}

// holds checks w's condition against the stored row cur (nil when none).
func holds(w itemstore.Write, cur *itemstore.Item, now time.Time) error {
	alive := cur != nil && cur.LiveAt(now)
	switch {
	case w.Cond == itemstore.IfAbsent && alive:
		return fmt.Errorf("%s/%s exists: %w", w.Item.PK, w.Item.SK, itemstore.ErrConflict)
	case (w.Cond == itemstore.IfExists || w.Cond == itemstore.IfVersion) && !alive:
		return fmt.Errorf("%s/%s does not exist: %w", w.Item.PK, w.Item.SK, itemstore.ErrConflict)
	case w.Cond == itemstore.IfVersion && cur.Version != w.ExpectVersion:
		return fmt.Errorf("%s/%s is at version %d, not %d: %w", w.Item.PK, w.Item.SK, cur.Version, w.ExpectVersion, itemstore.ErrConflict)
	}
	return nil
}

// putItem replaces the row for its key, numbering the version from the live row if any,
// and records the change.
func putItem(ctx context.Context, tx *sql.Tx, it itemstore.Item, cur *itemstore.Item, now time.Time) (itemstore.Item, error) {
	it.Version = 1
	if cur != nil && cur.LiveAt(now) {
		it.Version = cur.Version + 1
	}
	exp := itemstore.ExpirySeconds(it.ExpiresAt)
	it.ExpiresAt = itemstore.ExpiryFromSeconds(exp)
	if it.Data == nil {
		it.Data = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO items (pk, sk, gsi1pk, gsi1sk, expires_at, ver, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (pk, sk) DO UPDATE SET gsi1pk = excluded.gsi1pk, gsi1sk = excluded.gsi1sk,
			expires_at = excluded.expires_at, ver = excluded.ver, data = excluded.data`,
		it.PK, it.SK, nullable(it.GSI1PK), nullable(it.GSI1SK), exp, it.Version, it.Data)
	if err != nil {
		return itemstore.Item{}, fmt.Errorf("put item %s/%s: %w", it.PK, it.SK, err)
	}
	kind := itemstore.Inserted
	if cur != nil {
		kind = itemstore.Modified // as in DynamoDB, even when the old row had expired
	}
	return it, record(ctx, tx, kind, it.PK, it.SK, cur, &it, now)
}

// deleteItem removes the row cur (nil: nothing to do, and nothing to record).
func deleteItem(ctx context.Context, tx *sql.Tx, cur *itemstore.Item, now time.Time) error {
	if cur == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM items WHERE pk = ? AND sk = ?`, cur.PK, cur.SK); err != nil {
		return fmt.Errorf("delete item %s/%s: %w", cur.PK, cur.SK, err)
	}
	return record(ctx, tx, itemstore.Removed, cur.PK, cur.SK, cur, nil, now)
}

// nullable keeps items without index keys out of the partial GSI1 index.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
