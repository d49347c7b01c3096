package api_test

import (
	"os"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
)

// TestAPIDocListsEveryRoute keeps docs/api.md's route table in step with the route table.
func TestAPIDocListsEveryRoute(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range api.Routes() {
		row := "| " + r.Method + " | `" + r.Path + "` |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/api.md has no row %q", row)
		}
	}
}
