package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
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

// WithETag sets the ETag of a versioned document.
func WithETag(resp Response, version int64) Response {
	resp.Header = http.Header{"Etag": {`"` + strconv.FormatInt(version, 10) + `"`}}
	return resp
}

// ParseIfMatch reads an If-Match header holding a version as returned in ETag; 0 when absent.
func ParseIfMatch(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n < 1 {
		return 0, problem.InvalidField("If-Match", "must be a version as returned in ETag")
	}
	return n, nil
}
