package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Feed is the change feed the poller reads (the SQLite change table on the embedded
// default; in AWS the DynamoDB stream drives the stream Lambda instead).
type Feed interface {
	ReadChanges(ctx context.Context, cursor string, limit int) ([]itemstore.Change, string, error)
}

// trimmer is a feed that can drop entries its consumer has passed (the SQLite feed can).
type trimmer interface {
	TrimChanges(ctx context.Context, cursor string, olderThan time.Time) (int64, error)
}

// feedRetention is how long passed feed entries stay, as long as DynamoDB Streams keeps
// records, so the embedded feed stays useful for inspection without growing for ever.
const feedRetention = 24 * time.Hour

// Poller feeds the writer from a change feed, keeping its cursor in the item store.
type Poller struct {
	w     *Writer
	feed  Feed
	name  string
	every time.Duration
}

// feedPage is how many changes one read takes.
const feedPage = 1000

// saveEvery bounds how far the stored cursor may trail while only non-evidence changes
// pass: saving after every page would itself be a change to read, for ever.
const saveEvery = 10000

// NewPoller returns a poller named name (its cursor's key) that polls every interval.
func (w *Writer) NewPoller(feed Feed, name string, every time.Duration) *Poller {
	return &Poller{w: w, feed: feed, name: name, every: every}
}

type cursorItem struct {
	Cursor string `json:"cursor"`
}

// Run polls until ctx ends; errors are logged and retried on the next tick, since the
// cursor only moves past changes that were applied.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		if _, err := p.Drain(ctx); err != nil && ctx.Err() == nil {
			p.w.log.ErrorContext(ctx, "audit writer pass failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Drain applies every change up to the end of the feed, then seals what is due.
func (p *Poller) Drain(ctx context.Context) (Result, error) {
	var total Result
	cur, err := p.cursor(ctx)
	if err != nil {
		return total, err
	}
	unsaved := 0
	for {
		changes, next, err := p.feed.ReadChanges(ctx, cur, feedPage)
		if err != nil {
			return total, fmt.Errorf("read change feed: %w", err)
		}
		if len(changes) == 0 {
			break
		}
		res := p.w.Apply(ctx, changes)
		total.Appended, total.Duplicates = total.Appended+res.Appended, total.Duplicates+res.Duplicates
		total.Ignored, total.Rejected = total.Ignored+res.Ignored, total.Rejected+res.Rejected
		if res.Err != nil {
			return total, res.Err // the cursor stays before this page: it is read again
		}
		cur, unsaved = next, unsaved+len(changes)
		if res.Appended+res.Duplicates+res.Rejected > 0 || unsaved >= saveEvery {
			if err := p.save(ctx, cur); err != nil {
				return total, err
			}
			unsaved = 0
		}
	}
	return total, p.w.SealDue(ctx)
}

func (p *Poller) cursor(ctx context.Context) (string, error) {
	var c cursorItem
	if _, err := p.w.loadJSON(ctx, cursorPK, p.name, &c); err != nil {
		return "", fmt.Errorf("audit cursor %s: %w", p.name, err)
	}
	return c.Cursor, nil
}

func (p *Poller) save(ctx context.Context, cur string) error {
	data, err := json.Marshal(cursorItem{Cursor: cur})
	if err != nil {
		return err
	}
	_, err = p.w.items.Put(ctx, itemstore.Write{Kind: itemstore.Put, Item: itemstore.Item{PK: cursorPK, SK: p.name, Data: data}})
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("save audit cursor %s: %w", p.name, err)
	}
	if err != nil {
		return err
	}
	return p.trim(ctx, cur)
}

// trim drops feed entries behind the saved cursor once they are older than feedRetention.
func (p *Poller) trim(ctx context.Context, cur string) error {
	t, ok := p.feed.(trimmer)
	if !ok || cur == "" {
		return nil
	}
	if _, err := t.TrimChanges(ctx, cur, p.w.clock.Now().Add(-feedRetention)); err != nil {
		return fmt.Errorf("trim change feed: %w", err)
	}
	return nil
}
