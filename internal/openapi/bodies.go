package openapi

import "github.com/cavra-enterprise/aispm-reports/schemas"

// body is what a route's request body must be.
type body struct {
	// schema is the one its application/json body is validated against.
	schema object
	// optional: an empty body is taken as {}.
	optional bool
}

// emptyObject is the body of the routes that take nothing but an empty body or {}
// (search.ParseRetrieve).
var emptyObject = object{"type": "object", "maxProperties": 0}

// bodies is, for every route that takes a body, the schema its handler validates it
// against (the Parse functions of internal/settings, ingest, artifacts, search, manifest
// and delivery). Generate fails on a body route missing here; internal/api's
// TestOpenAPIBodiesMatchTheValidation sends each route a body that no schema admits, and an
// empty one, to prove every entry matches what the route really refuses.
var bodies = map[string]body{
	"put-settings":              {schema: ref(schemas.Settings)},
	"post-ingest":               {schema: ref(schemas.IngestRequest)},
	"post-render":               {schema: ref(schemas.RenderRequest)},
	"post-search":               {schema: ref(schemas.SearchRequest), optional: true},
	"post-retrieval":            {schema: emptyObject, optional: true},
	"post-legal-hold":           {schema: ref(schemas.LegalHold)},
	"post-legal-hold-release":   {schema: ref(schemas.LegalHold)},
	"post-deletion-readiness":   {schema: emptyObject, optional: true},
	"post-package":              {schema: ref(schemas.PackageRequest)},
	"put-recipient-policy":      {schema: ref(schemas.Policy)},
	"post-send":                 {schema: ref(schemas.SendRequest)},
	"post-distribution-approve": {schema: ref(schemas.Decision), optional: true},
	"post-distribution-deny":    {schema: ref(schemas.Decision), optional: true},
	"post-token":                {schema: ref(schemas.TokenRequest)},
	"post-schedule":             {schema: ref(schemas.ScheduleRequest)},
	"patch-schedule":            {schema: ref(schemas.ScheduleRequest)},
	"post-schedule-pause":       {schema: emptyObject, optional: true},
	"post-schedule-resume":      {schema: emptyObject, optional: true},
	"post-schedule-approve":     {schema: ref(schemas.Decision), optional: true},
	"post-schedule-deny":        {schema: ref(schemas.Decision), optional: true},
	"post-token-revoke":         {schema: emptyObject, optional: true},
	"post-token-rotate":         {schema: ref(schemas.TokenRotate), optional: true},
}
