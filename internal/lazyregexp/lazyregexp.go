// Package lazyregexp compiles a regular expression on its first use instead of at program
// start. A Lambda function runs the initialisers of every package it links on each cold
// start, so a pattern that only some requests need should not be compiled there.
package lazyregexp

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use; a bad expression panics then, as
// regexp.MustCompile would at start-up (each package's tests exercise its patterns).
type Regexp struct {
	re func() *regexp.Regexp
}

// New returns the lazily compiled expr.
func New(expr string) *Regexp {
	return &Regexp{re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

// MatchString reports whether s contains a match.
func (r *Regexp) MatchString(s string) bool { return r.re().MatchString(s) }

// FindStringSubmatch returns the leftmost match and its submatches, nil for none.
func (r *Regexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }

// FindAllString returns up to n successive matches (all when n < 0).
func (r *Regexp) FindAllString(s string, n int) []string { return r.re().FindAllString(s, n) }
