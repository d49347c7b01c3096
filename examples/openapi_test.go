package examples

import (
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/openapi"
)

// TestOpenAPIIsCurrent keeps schemas/openapi/openapi.json, the document route get-openapi serves and
// SDKs are generated from, equal to a fresh generation from the route table and schemas/.
func TestOpenAPIIsCurrent(t *testing.T) {
	doc, err := openapi.Generate()
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "../schemas/openapi/openapi.json", doc)
}
