// Package openapiapi serves the product's OpenAPI document (route get-openapi).
package openapiapi

import (
	"context"
	"net/http"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	openapidoc "github.com/cavra-enterprise/aispm-reports/schemas/openapi"
)

// Handlers serves the document built into the binary: a request generates, reads and
// stores nothing, and no tenant's data is in it.
func Handlers() api.Handlers {
	return api.Handlers{"get-openapi": func(context.Context, api.Request) (api.Response, error) {
		return api.Response{Status: http.StatusOK, Raw: openapidoc.Document}, nil
	}}
}

// FromPorts builds the handlers for the route's Lambda function; the document needs no port.
func FromPorts(ports.Set) (api.Handlers, error) { return Handlers(), nil }
