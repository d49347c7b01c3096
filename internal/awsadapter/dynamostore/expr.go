package dynamostore

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// expr collects the placeholders one request's expressions use. DynamoDB rejects unused
// placeholders, so they are recorded as the expressions are written, never listed up front.
type expr struct {
	names  map[string]string
	values map[string]types.AttributeValue
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

// n names an attribute; every name goes through a placeholder because "data" is a reserved
// word.
func (e *expr) n(attr string) string {
	p := "#" + strings.ReplaceAll(attr, "_", "")
	e.names[p] = attr
	return p
}

func (e *expr) v(key string, av types.AttributeValue) string {
	p := ":" + key
	e.values[p] = av
	return p
}

// Names and Values return nil when empty: DynamoDB rejects empty maps.
func (e *expr) Names() map[string]string {
	if len(e.names) == 0 {
		return nil
	}
	return e.names
}

func (e *expr) Values() map[string]types.AttributeValue {
	if len(e.values) == 0 {
		return nil
	}
	return e.values
}

// live is true for an item without a TTL or whose TTL is still ahead of now (epoch seconds).
func (e *expr) live(now int64) string {
	exp := e.n(AttrExpiresAt)
	return "(attribute_not_exists(" + exp + ") OR " + exp + " > " + e.v("now", numAttr(now)) + ")"
}

// condition writes a write's condition ("" for Always). An expired item DynamoDB has not
// deleted yet counts as absent, as it does on reads.
func (e *expr) condition(c itemstore.Condition, expect, now int64) string {
	switch c {
	case itemstore.IfAbsent:
		return "attribute_not_exists(" + e.n(AttrPK) + ") OR " + e.n(AttrExpiresAt) + " <= " + e.v("now", numAttr(now))
	case itemstore.IfExists:
		return "attribute_exists(" + e.n(AttrPK) + ") AND " + e.live(now)
	case itemstore.IfVersion:
		return e.n(AttrVersion) + " = " + e.v("expect", numAttr(expect)) + " AND " + e.live(now)
	}
	return ""
}

// replace writes the update expression that turns whatever is stored into it. The version
// follows from the condition: IfAbsent starts at 1, IfExists and IfVersion add 1.
func (e *expr) replace(it itemstore.Item, c itemstore.Condition) string {
	ver := e.v("one", numAttr(1))
	if c != itemstore.IfAbsent {
		ver = e.n(AttrVersion) + " + " + ver
	}
	sets := []string{e.n(AttrData) + " = " + e.v("data", strAttr(string(it.Data))), e.n(AttrVersion) + " = " + ver}
	var removes []string
	if it.GSI1PK != "" {
		sets = append(sets, e.n(AttrGSI1PK)+" = "+e.v("gpk", strAttr(it.GSI1PK)), e.n(AttrGSI1SK)+" = "+e.v("gsk", strAttr(it.GSI1SK)))
	} else {
		removes = append(removes, e.n(AttrGSI1PK), e.n(AttrGSI1SK))
	}
	if exp := itemstore.ExpirySeconds(it.ExpiresAt); exp != 0 {
		sets = append(sets, e.n(AttrExpiresAt)+" = "+e.v("exp", numAttr(exp)))
	} else {
		removes = append(removes, e.n(AttrExpiresAt))
	}
	out := "SET " + strings.Join(sets, ", ")
	if len(removes) > 0 {
		out += " REMOVE " + strings.Join(removes, ", ")
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
