package itemstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

func TestExpirySecondsNeverExpireEarly(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for in, want := range map[time.Time]int64{
		{}:                      0,
		at:                      at.Unix(),
		at.Add(time.Nanosecond): at.Unix() + 1,
		time.Unix(-5, 0):        1,
		time.Unix(0, 0):         1,
	} {
		if got := itemstore.ExpirySeconds(in); got != want {
			t.Errorf("ExpirySeconds(%v) = %d, want %d", in, got, want)
		}
	}
	if !itemstore.ExpiryFromSeconds(0).IsZero() || !itemstore.ExpiryFromSeconds(at.Unix()).Equal(at) {
		t.Error("ExpiryFromSeconds")
	}
	it := itemstore.Item{ExpiresAt: at}
	if !it.LiveAt(at.Add(-time.Second)) || it.LiveAt(at) || !(itemstore.Item{}).LiveAt(at) {
		t.Error("LiveAt")
	}
}

func TestValidateDeleteMarksADelete(t *testing.T) {
	w, err := itemstore.ValidateDelete(itemstore.Write{Item: itemstore.Item{PK: "p", SK: "s"}})
	if err != nil || w.Kind != itemstore.Delete {
		t.Fatalf("%+v %v", w, err)
	}
	if _, err := itemstore.ValidateDelete(itemstore.Write{Kind: itemstore.Check, Item: itemstore.Item{PK: "p", SK: "s"}}); !errors.Is(err, itemstore.ErrInvalid) {
		t.Fatalf("check as delete: %v", err)
	}
}
