package itemstore

import (
	"fmt"
	"unicode/utf8"
)

// Request limits every adapter enforces. They are DynamoDB's, so a request the embedded store
// accepts is one the AWS store accepts too.
const (
	MaxPKBytes        = 2048
	MaxSKBytes        = 1024
	DefaultQueryLimit = 100
	MaxQueryLimit     = 1000
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

// ValidateKey checks a primary key. Adapters call it; it returns errors wrapping ErrInvalid.
func ValidateKey(pk, sk string) error {
	switch {
	case pk == "" || sk == "":
		return invalid("empty key %q/%q", pk, sk)
	case len(pk) > MaxPKBytes || len(sk) > MaxSKBytes:
		return invalid("key longer than %d/%d bytes", MaxPKBytes, MaxSKBytes)
	case !utf8.ValidString(pk) || !utf8.ValidString(sk):
		return invalid("key is not UTF-8")
	}
	return nil
}

// ValidateWrite checks one write (a Put, a Delete or a transaction entry).
func ValidateWrite(w Write) error {
	if err := ValidateKey(w.Item.PK, w.Item.SK); err != nil {
		return err
	}
	switch {
	case w.Cond < Always || w.Cond > IfExists:
		return invalid("%s/%s: unknown condition %d", w.Item.PK, w.Item.SK, w.Cond)
	case w.Cond == IfVersion && w.ExpectVersion < 1:
		return invalid("%s/%s: IfVersion needs ExpectVersion >= 1", w.Item.PK, w.Item.SK)
	}
	switch w.Kind {
	case Put:
		return validateItem(w.Item)
	case Delete:
		if w.Cond == IfAbsent {
			return invalid("delete %s/%s: IfAbsent asserts nothing", w.Item.PK, w.Item.SK)
		}
	case Check:
		if w.Cond == Always {
			return invalid("check %s/%s: Always asserts nothing", w.Item.PK, w.Item.SK)
		}
	default:
		return invalid("%s/%s: unknown write kind %d", w.Item.PK, w.Item.SK, w.Kind)
	}
	return nil
}

func validateItem(it Item) error {
	switch {
	case (it.GSI1PK == "") != (it.GSI1SK == ""):
		return invalid("put %s/%s: set both GSI1PK and GSI1SK or neither", it.PK, it.SK)
	case len(it.GSI1PK) > MaxPKBytes || len(it.GSI1SK) > MaxSKBytes:
		return invalid("put %s/%s: GSI1 key too long", it.PK, it.SK)
	case !utf8.ValidString(it.GSI1PK) || !utf8.ValidString(it.GSI1SK):
		return invalid("put %s/%s: GSI1 key is not UTF-8", it.PK, it.SK)
	case !utf8.Valid(it.Data):
		// The AWS store keeps Data as a DynamoDB string, which must be UTF-8.
		return invalid("put %s/%s: data is not UTF-8", it.PK, it.SK)
	}
	return nil
}

// ValidateTransact checks a transaction: its size, each entry, one entry per key.
func ValidateTransact(writes []Write) error {
	if len(writes) > MaxTransactWrites {
		return invalid("transaction of %d writes, at most %d", len(writes), MaxTransactWrites)
	}
	seen := make(map[[2]string]bool, len(writes))
	for i, w := range writes {
		if err := ValidateWrite(w); err != nil {
			return fmt.Errorf("transaction entry %d: %w", i, err)
		}
		k := [2]string{w.Item.PK, w.Item.SK}
		if seen[k] {
			return invalid("transaction has two entries for %s/%s", k[0], k[1])
		}
		seen[k] = true
	}
	return nil
}

// ValidateQuery checks a query, except its cursor, which only the adapter can read.
func ValidateQuery(q Query) error {
	switch {
	case q.Index != "" && q.Index != GSI1:
		return invalid("query: unknown index %q", q.Index)
	case q.PK == "":
		return invalid("query: empty partition key")
	case q.Limit < 0 || q.Limit > MaxQueryLimit:
		return invalid("query: limit %d outside 1..%d", q.Limit, MaxQueryLimit)
	case q.SKPrefix != "" && (q.SKFrom != "" || q.SKTo != ""):
		return invalid("query: SKPrefix with SKFrom/SKTo")
	case q.SKFrom != "" && q.SKTo != "" && q.SKFrom > q.SKTo:
		return invalid("query: SKFrom %q after SKTo %q", q.SKFrom, q.SKTo)
	}
	for _, s := range []string{q.PK, q.SKPrefix, q.SKFrom, q.SKTo} {
		if !utf8.ValidString(s) {
			return invalid("query: key is not UTF-8")
		}
	}
	return nil
}

// ValidateDelete checks the write of a Delete call and returns it marked as a delete: the
// zero Kind is Put, and a Delete call means delete; a Check is refused.
func ValidateDelete(w Write) (Write, error) {
	if w.Kind == Check {
		return w, fmt.Errorf("delete %s/%s with write kind Check: %w", w.Item.PK, w.Item.SK, ErrInvalid)
	}
	w.Kind = Delete
	return w, ValidateWrite(w)
}
