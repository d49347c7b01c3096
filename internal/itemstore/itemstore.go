// Package itemstore is the port for tenant state: a single table of items addressed by a
// partition key and a sort key, with conditional writes, transactions, queries by key prefix
// and by one secondary index, expiry by TTL, and a change feed that carries every write.
//
// Two adapters implement it: DynamoDB (+ Streams) in AWS and SQLite on the embedded default.
// Both pass the same contract suite in package itemstoretest.
package itemstore

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every adapter. Adapters translate their SDK errors into these.
var (
	ErrNotFound = errors.New("item not found")
	// ErrConflict means a write condition did not hold (item exists, version moved, a
	// transaction condition failed, or a concurrent transaction won).
	ErrConflict = errors.New("write condition failed")
	// ErrInvalid means the request itself is malformed (empty key, too many writes...).
	ErrInvalid = errors.New("invalid item store request")
)

// MaxTransactWrites is the largest transaction every adapter accepts (DynamoDB's limit).
const MaxTransactWrites = 100

// GSI1 is the name of the one secondary index. Items join it by setting GSI1PK and GSI1SK.
const GSI1 = "gsi1"

// Item is one record. Data is the domain's JSON document; the store never interprets it.
type Item struct {
	PK, SK         string
	GSI1PK, GSI1SK string // both empty: the item is not in the index
	// ExpiresAt is the TTL. Zero means never. Reads treat an item whose ExpiresAt has passed
	// as absent, even before the store physically removes it. It is kept in whole seconds
	// (DynamoDB TTL is epoch seconds), rounded up so an item never expires early.
	ExpiresAt time.Time
	// Version is set by the store: 1 when no live item had the key (first write, or after a
	// delete or expiry), +1 on every later write.
	Version int64
	Data    []byte
}

// Condition guards a write.
type Condition int

const (
	// Always writes unconditionally.
	Always Condition = iota
	// IfAbsent writes only when no live item has the key.
	IfAbsent
	// IfVersion writes only when the live item has exactly Write.ExpectVersion.
	IfVersion
	// IfExists writes only when a live item has the key.
	IfExists
)

// WriteKind says what a transaction entry does.
type WriteKind int

const (
	Put WriteKind = iota
	Delete
	// Check writes nothing; it only asserts the Condition (a DynamoDB ConditionCheck).
	Check
)

// Write is one entry of a transaction. For Delete and Check only Item.PK/SK are read.
// A Delete with IfAbsent or a Check with Always asserts nothing useful: ErrInvalid.
type Write struct {
	Kind          WriteKind
	Item          Item
	Cond          Condition
	ExpectVersion int64
}

// Query selects items of one partition (or one GSI1 partition) in sort-key order.
// SKPrefix cannot be combined with SKFrom/SKTo (ErrInvalid): a DynamoDB key condition takes
// one sort-key predicate, and a filter may not name a key attribute.
type Query struct {
	Index    string // "" for the table, GSI1 for the index
	PK       string // partition key (GSI1PK when Index == GSI1)
	SKPrefix string // optional: sort keys starting with this prefix
	SKFrom   string // optional: sort keys >= SKFrom (inclusive)
	SKTo     string // optional: sort keys <= SKTo (inclusive)
	Limit    int    // page size, 1..1000; 0 means 100
	Cursor   string // opaque, from a previous Page.Next
	Desc     bool   // true: descending sort-key order
}

// Page is one page of a query. Next is empty when there are no more items.
type Page struct {
	Items []Item
	Next  string
}

// ChangeKind says what happened to an item.
type ChangeKind string

const (
	Inserted ChangeKind = "INSERT"
	Modified ChangeKind = "MODIFY"
	Removed  ChangeKind = "REMOVE"
)

// Change is one entry of the change feed: the item before and after a write.
type Change struct {
	// Seq orders changes of one item key; comparing Seq across keys is not meaningful in AWS
	// (one stream shard per key range), so consumers order by the content they carry.
	Seq  string
	Kind ChangeKind
	PK   string
	SK   string
	Old  *Item // nil on insert
	New  *Item // nil on remove
	At   time.Time
}

// Store is the full port. Consumers declare the smaller interface they need.
type Store interface {
	Get(ctx context.Context, pk, sk string) (Item, error)
	Put(ctx context.Context, w Write) (Item, error)
	Delete(ctx context.Context, w Write) error
	// Transact applies all writes or none. A failed condition gives ErrConflict. At most
	// MaxTransactWrites entries and one entry per key (ErrInvalid otherwise); no entries is a
	// no-op.
	Transact(ctx context.Context, writes []Write) error
	Query(ctx context.Context, q Query) (Page, error)
}

// ChangeFeed reads the change feed from a cursor ("" = from the oldest retained change).
// It returns the changes after the cursor, at most limit (<= 0 means 100; at most 1000 per
// call), and the cursor to resume from.
// Every committed write appears exactly once, in commit order per item.
type ChangeFeed interface {
	ReadChanges(ctx context.Context, cursor string, limit int) ([]Change, string, error)
}
