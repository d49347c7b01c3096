package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// TestEveryRouteHasOneHandler: the domains' handler sets, joined, serve exactly the route
// table (app.Build refuses a name served twice).
func TestEveryRouteHasOneHandler(t *testing.T) {
	a, err := embeddedapp.Open(context.Background(), config.Embedded{DataDir: t.TempDir(), PublicBaseURL: "http://127.0.0.1"},
		clock.NewManual(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	var served, table []string
	for name := range a.Handlers() {
		served = append(served, name)
	}
	for _, r := range api.Routes() {
		table = append(table, r.Name)
	}
	slices.Sort(served)
	slices.Sort(table)
	if !slices.Equal(served, table) {
		t.Fatalf("handlers for %v, route table %v", served, table)
	}
}
