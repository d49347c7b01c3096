// Package localgate is the embedded approvalgate.Gate: an in-process engine with the same
// states and timeouts as the Step Functions gate, optionally kept in a JSON file.
//
// Expiry is decided by the clock on every read and decision, so a gate past its deadline
// is expired even if nothing noticed yet. On top of that, a timer per gate (real time) and
// Expire (for manual clocks) write the expiry down as it happens.
package localgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
)

// Engine holds every gate.
type Engine struct {
	clock clock.Clock
	path  string // "" keeps gates in memory only

	mu     sync.Mutex
	gates  map[string]*gate
	timers map[string]*time.Timer
}

type gate struct {
	Ref     string              `json:"ref"`
	Status  approvalgate.Status `json:"status"`
	Input   string              `json:"input,omitempty"`
	Output  string              `json:"output,omitempty"`
	Opened  time.Time           `json:"opened"`
	Expires time.Time           `json:"expires"`
	Closed  time.Time           `json:"closed,omitzero"`
}

var _ approvalgate.Gate = (*Engine)(nil)

// New returns an engine keeping its gates in the file at path ("" for memory only),
// loading what is already there.
func New(c clock.Clock, path string) (*Engine, error) {
	e := &Engine{clock: c, path: path, gates: map[string]*gate{}, timers: map[string]*time.Timer{}}
	if err := e.load(); err != nil {
		return nil, err
	}
	// A timer for a gate already past its deadline fires at once, so arm under the lock.
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.gates {
		if g.Status == approvalgate.Pending {
			e.arm(g)
		}
	}
	return e, nil
}

func (e *Engine) Open(ctx context.Context, ref string, timeout time.Duration, input []byte) error {
	if err := approvalgate.CheckOpen(ref, timeout, input); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.gates[ref]; ok {
		return fmt.Errorf("open gate %s: %w", ref, approvalgate.ErrExists)
	}
	now := e.clock.Now()
	g := &gate{Ref: ref, Status: approvalgate.Pending, Input: string(input), Opened: now, Expires: now.Add(timeout)}
	e.gates[ref] = g
	if err := e.save(); err != nil {
		delete(e.gates, ref)
		return fmt.Errorf("open gate %s: %w", ref, err)
	}
	e.arm(g)
	return nil
}

// Decide records the first decision; the mutex makes "first" exact.
func (e *Engine) Decide(ctx context.Context, ref string, approved bool, output []byte) error {
	if err := approvalgate.CheckRef(ref); err != nil {
		return err
	}
	if err := approvalgate.CheckDocument(output); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g, err := e.current(ref)
	if err != nil {
		return fmt.Errorf("decide gate %s: %w", ref, err)
	}
	switch g.Status {
	case approvalgate.Expired:
		return fmt.Errorf("decide gate %s: %w", ref, approvalgate.ErrExpired)
	case approvalgate.Approved, approvalgate.Denied:
		return fmt.Errorf("decide gate %s: %w", ref, approvalgate.ErrDecided)
	}
	prev := *g
	g.Status, g.Output, g.Closed = approvalgate.Denied, string(output), e.clock.Now()
	if approved {
		g.Status = approvalgate.Approved
	}
	if err := e.save(); err != nil {
		*g = prev // a decision that is not kept did not happen
		return fmt.Errorf("decide gate %s: %w", ref, err)
	}
	e.disarm(ref)
	return nil
}

func (e *Engine) Status(ctx context.Context, ref string) (approvalgate.State, error) {
	if err := approvalgate.CheckRef(ref); err != nil {
		return approvalgate.State{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g, err := e.current(ref)
	if err != nil {
		return approvalgate.State{}, fmt.Errorf("status of gate %s: %w", ref, err)
	}
	st := approvalgate.State{Ref: ref, Status: g.Status}
	if g.Output != "" {
		st.Output = []byte(g.Output)
	}
	return st, nil
}

// Expire writes down the expiry of every pending gate past its deadline and returns how
// many it expired. Callers with a manual clock use it after moving the clock.
func (e *Engine) Expire(ctx context.Context) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, g := range e.gates {
		if e.expireIfDue(g) {
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return n, e.save()
}

// Close stops the expiry timers.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ref := range e.timers {
		e.disarm(ref)
	}
}

// current returns the gate with any due expiry applied; callers hold e.mu. Saving that
// expiry is best effort: the clock makes the same call on every later read anyway.
func (e *Engine) current(ref string) (*gate, error) {
	g, ok := e.gates[ref]
	if !ok {
		return nil, approvalgate.ErrNotFound
	}
	if e.expireIfDue(g) {
		_ = e.save()
	}
	return g, nil
}

func (e *Engine) expireIfDue(g *gate) bool {
	now := e.clock.Now()
	if g.Status != approvalgate.Pending || now.Before(g.Expires) {
		return false
	}
	g.Status, g.Closed = approvalgate.Expired, now
	e.disarm(g.Ref)
	return true
}

// arm starts the real-time timer that expires g; callers hold e.mu.
func (e *Engine) arm(g *gate) {
	ref := g.Ref
	e.timers[ref] = time.AfterFunc(g.Expires.Sub(e.clock.Now()), func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if g, ok := e.gates[ref]; ok && e.expireIfDue(g) {
			_ = e.save()
		}
	})
}

func (e *Engine) disarm(ref string) {
	if t, ok := e.timers[ref]; ok {
		t.Stop()
		delete(e.timers, ref)
	}
}

type file struct {
	Gates []*gate `json:"gates"`
}

func (e *Engine) load() error {
	if e.path == "" {
		return nil
	}
	raw, err := os.ReadFile(e.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read gates: %w", err)
	}
	var f file
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("decode %s: %w", e.path, err)
	}
	for _, g := range f.Gates {
		if err := approvalgate.CheckRef(g.Ref); err != nil {
			return fmt.Errorf("%s: %w", e.path, err)
		}
		e.gates[g.Ref] = g
	}
	return nil
}

// save writes every gate to the file atomically; callers hold e.mu.
func (e *Engine) save() error {
	if e.path == "" {
		return nil
	}
	f := file{Gates: make([]*gate, 0, len(e.gates))}
	for _, g := range e.gates {
		f.Gates = append(f.Gates, g)
	}
	slices.SortFunc(f.Gates, func(a, b *gate) int { return a.Opened.Compare(b.Opened) })
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode gates: %w", err)
	}
	return atomicfile.Write(e.path, raw, 0o600)
}
