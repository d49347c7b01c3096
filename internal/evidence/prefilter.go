package evidence

import (
	"strings"
	"unicode/utf8"
)

// classes is the set of byte classes a string holds. One pass over the string finds them,
// and each pattern needs some of them in every match: a string without them cannot match.
type classes uint8

const (
	atSign classes = 1 << iota
	dot
	colon
	equals
	dash
	underscore
	upper
	nonASCII
)

var byteClasses = func() (t [256]classes) {
	t['@'], t['.'], t[':'], t['='], t['-'], t['_'] = atSign, dot, colon, equals, dash, underscore
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = upper
	}
	for c := utf8.RuneSelf; c < len(t); c++ {
		t[c] = nonASCII
	}
	return t
}()

func classesOf(s string) classes {
	var c classes
	for i := 0; i < len(s); i++ {
		c |= byteClasses[s[i]]
	}
	return c
}

// has reports whether c holds every class of want.
func (c classes) has(want classes) bool { return c&want == want }

func mayHoldPrivateKey(s string, c classes) bool {
	return c.has(dash|upper) && strings.Contains(s, "PRIVATE KEY-----")
}

// knownSecrets' alternatives start with AKIA, ASIA or one of these literal prefixes, each
// ending in the byte after which it is looked for.
var (
	underscorePrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "sk_live_", "sk_test_", "aispm_"}
	dashPrefixes       = []string{"xoxa-", "xoxb-", "xoxp-", "xoxr-"}
)

func mayHoldKnownSecret(s string, c classes) bool {
	return c.has(upper) && (strings.Contains(s, "AKIA") || strings.Contains(s, "ASIA")) ||
		c.has(underscore) && prefixEndsAt(s, '_', underscorePrefixes) ||
		c.has(dash) && prefixEndsAt(s, '-', dashPrefixes)
}

// prefixEndsAt reports whether one of prefixes (each ending in sep) ends at a sep in s:
// separators are rare, so this compares a few bytes where a search would scan s once per
// prefix.
func prefixEndsAt(s string, sep byte, prefixes []string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != sep {
			continue
		}
		for _, p := range prefixes {
			if strings.HasSuffix(s[:i+1], p) {
				return true
			}
		}
	}
	return false
}

// secretWords are assignedSecret's keywords in lower case.
var secretWords = []string{"password", "passwd", "token", "secret", "apikey", "api_key"}

// mayHoldAssignedSecret: a keyword and an = or a :. The pattern is case-insensitive, and
// (?i) also folds non-ASCII letters onto the keywords' (ſ onto s, the Kelvin sign onto k),
// so a string with any non-ASCII byte always runs the pattern.
func mayHoldAssignedSecret(s string, c classes) bool {
	switch {
	case !c.has(equals) && !c.has(colon):
		return false
	case c.has(nonASCII):
		return true
	}
	return containsAny(strings.ToLower(s), secretWords)
}

// mayHoldIPv4: an address has three dots, each between two digits.
func mayHoldIPv4(s string, c classes) bool {
	if !c.has(dot) {
		return false
	}
	n := 0
	for i := 1; i+1 < len(s); i++ {
		if s[i] == '.' && isDigit(s[i-1]) && isDigit(s[i+1]) {
			n++
		}
	}
	return n >= 3
}

// mayHoldIPv6: hasIPv6 only counts a candidate (a run of hex digits and colons) holding
// "::" or seven colons.
func mayHoldIPv6(s string, c classes) bool {
	if !c.has(colon) {
		return false
	}
	colons := 0
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == ':':
			if colons++; colons == 7 || i > 0 && s[i-1] == ':' {
				return true
			}
		case !isHex(b):
			colons = 0
		}
	}
	return false
}

// mayHoldMarker: every forbidden marker holds an underscore, and no other character turns
// into one in lower case.
func mayHoldMarker(c classes) bool { return c.has(underscore) }

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
