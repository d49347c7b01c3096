package lazyregexp_test

import (
	"slices"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/lazyregexp"
)

func TestBehavesLikeTheCompiledExpression(t *testing.T) {
	re := lazyregexp.New(`^rate\(([1-9][0-9]*) (minutes?|hours?)\)$`)
	if !re.MatchString("rate(5 minutes)") || re.MatchString("rate(0 minutes)") {
		t.Fatal("MatchString")
	}
	if got := re.FindStringSubmatch("rate(2 hours)"); !slices.Equal(got, []string{"rate(2 hours)", "2", "hours"}) {
		t.Fatalf("FindStringSubmatch: %q", got)
	}
	if got := lazyregexp.New(`[0-9]+`).FindAllString("a1b22c333", -1); !slices.Equal(got, []string{"1", "22", "333"}) {
		t.Fatalf("FindAllString: %q", got)
	}
}

func TestBadExpressionPanicsOnFirstUse(t *testing.T) {
	re := lazyregexp.New(`(`) // no panic yet: nothing compiled
	defer func() {
		if recover() == nil {
			t.Fatal("a bad expression must panic when first used")
		}
	}()
	re.MatchString("x")
}
