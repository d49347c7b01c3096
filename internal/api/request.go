package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/lazyregexp"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// TenantSource looks tenants up (tenancy.Registry does).
type TenantSource interface {
	Get(ctx context.Context, id string) (tenancy.Tenant, error)
}

// Tenant reads the caller's tenant; a token whose tenant no longer exists authenticates nobody.
func Tenant(ctx context.Context, tenants TenantSource, r Request) (tenancy.Tenant, error) {
	t, err := tenants.Get(ctx, r.Principal.TenantID)
	if errors.Is(err, itemstore.ErrNotFound) {
		return tenancy.Tenant{}, auth.ErrUnauthenticated
	}
	return t, err
}

// parameterName is a query parameter name a refusal may repeat: anything else is named
// only as "query", so a caller's stray input is never echoed.
var parameterName = lazyregexp.New(`^[a-z][a-z0-9_]{0,63}$`)

// parseQuery reads a raw query string strictly. A malformed one (a bad percent escape, a
// ";", bytes that are not UTF-8) is refused naming "query": url.ParseQuery's partial
// result would silently drop the filters after the fault. A parameter the route does not
// take, or one given twice, is refused naming it.
func parseQuery(route Route, raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, problem.InvalidField("query", "the query string is malformed (a bad percent escape or a ';')")
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names) // the same refusal for the same query
	for _, name := range names {
		field := "query"
		if parameterName.MatchString(name) {
			field = name
		}
		switch {
		case !slices.Contains(route.Query, name):
			return nil, problem.New(problem.Invalid, "unknown_parameter", field, takes(route))
		case len(q[name]) > 1:
			return nil, problem.InvalidField(field, "give this parameter at most once")
		case !utf8.ValidString(q[name][0]):
			return nil, problem.InvalidField(field, "must be UTF-8 text")
		}
	}
	return q, nil
}

func takes(route Route) string {
	if len(route.Query) == 0 {
		return "this endpoint takes no query parameters"
	}
	return "this endpoint takes only the query parameters " + strings.Join(route.Query, ", ")
}

// WithETag sets the ETag of a versioned document: the strong entity tag "<version>".
func WithETag(resp Response, version int64) Response {
	resp.Header = http.Header{"Etag": {`"` + strconv.FormatInt(version, 10) + `"`}}
	return resp
}

// IfMatch is a parsed If-Match header (RFC 9110 §13.1.1) against documents whose ETag is
// the strong tag "<version>". Absent (or empty), it sets no precondition; "*" matches any current
// document (a versioned document always has one: its defaults are version 0). A list
// matches when any element names the current version. If-Match compares strongly, so a
// weak tag (W/"3") never matches, and neither does a strong tag that names no version.
type IfMatch struct {
	present, any bool
	versions     []int64
}

// entityTag is one element of an If-Match list: an optional weak prefix and a quoted
// string of etagc characters (%x21 / %x23-7E / obs-text).
var entityTag = lazyregexp.New(`^(W/)?"([\x21\x23-\x7e\x80-\xff]*)"$`)

// ParseIfMatch reads every If-Match field line of h (several lines are one comma-separated
// list). Anything that is not "*" or a list of entity tags is refused naming If-Match.
func ParseIfMatch(h http.Header) (IfMatch, error) {
	list := strings.TrimSpace(strings.Join(h.Values("If-Match"), ","))
	if strings.Trim(list, " \t,") == "" {
		return IfMatch{}, nil // absent, or a list without elements (a proxy's empty header): no precondition
	}
	bad := problem.InvalidField("If-Match", `must be * or a comma-separated list of entity tags such as "3", as returned in ETag`)
	if list == "*" {
		return IfMatch{present: true, any: true}, nil
	}
	m := IfMatch{present: true}
	for _, elem := range strings.Split(list, ",") {
		elem = strings.Trim(elem, " \t")
		if elem == "" {
			continue // RFC 9110 §5.6.1: empty list elements are ignored
		}
		tag := entityTag.FindStringSubmatch(elem)
		if tag == nil {
			return IfMatch{}, bad
		}
		if v, ok := versionOf(tag[2]); ok && tag[1] == "" {
			m.versions = append(m.versions, v)
		}
	}
	return m, nil
}

// versionOf reads a version the way WithETag writes it: canonical decimal, no sign.
func versionOf(opaque string) (int64, bool) {
	v, err := strconv.ParseInt(opaque, 10, 64)
	if err != nil || v < 0 || strconv.FormatInt(v, 10) != opaque {
		return 0, false
	}
	return v, true
}

// Expect resolves the precondition: the version the domain must still find when it writes
// (0 for none), or 412 version_mismatch. current reads the document's version, and is
// called only when the answer depends on it. The domain re-checks a version >= 1 in its
// write transaction, so a save between this read and the write is still refused. Version
// 0 (nothing saved yet, the defaults) is what the domains read as "no precondition": a
// first save by someone else in that window is not detected.
func (m IfMatch) Expect(current func() (int64, error)) (int64, error) {
	if !m.present || m.any {
		return 0, nil
	}
	v, err := current()
	if err != nil {
		return 0, err
	}
	if !slices.Contains(m.versions, v) {
		return 0, problem.New(problem.PreconditionFailed, "version_mismatch", "If-Match",
			"If-Match names no current version of this document (weak tags never match)")
	}
	return v, nil
}
