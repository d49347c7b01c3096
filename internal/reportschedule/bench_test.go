package reportschedule

import (
	"math/rand/v2"
	"testing"
	"time"
)

const benchSchedules = 10000

// benchSpecs are 10,000 varied schedules in two dozen zones, a third with blackouts.
func benchSpecs() []Spec {
	r := rand.New(rand.NewPCG(42, 42))
	specs := make([]Spec, benchSchedules)
	for i := range specs {
		specs[i] = withBlackouts(r, randomSpec(r))
	}
	return specs
}

func reportPerThousand(b *testing.B) {
	perSchedule := float64(b.Elapsed()) / float64(b.N) / benchSchedules
	b.ReportMetric(perSchedule*1000/float64(time.Millisecond), "ms/1000schedules")
}

func BenchmarkNextFire(b *testing.B) {
	specs := benchSpecs()
	after := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for range b.N {
		for i := range specs {
			NextFire(specs[i], after)
		}
	}
	reportPerThousand(b)
}

func BenchmarkEvaluate(b *testing.B) {
	specs := benchSpecs()
	after := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for range b.N {
		for i := range specs {
			if f, ok := NextFire(specs[i], after); ok {
				Evaluate(specs[i], f)
			}
		}
	}
	reportPerThousand(b)
}
