package objectstore

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckRetentionChange(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	hour := now.Add(time.Hour)
	gov := Retention{Mode: Governance, Until: hour}
	comp := Retention{Mode: Compliance, Until: hour}
	expired := Retention{Mode: Compliance, Until: now.Add(-time.Hour)}
	cases := []struct {
		name      string
		cur, next Retention
		noop      bool
		want      error
	}{
		{"extend", comp, Retention{Compliance, hour.Add(time.Hour)}, false, nil},
		{"same date", comp, comp, false, nil},
		{"shorten", comp, Retention{Compliance, hour.Add(-time.Minute)}, false, ErrLocked},
		{"shorten governance", gov, Retention{Governance, hour.Add(-time.Minute)}, false, ErrLocked},
		{"remove in force", gov, Retention{}, false, ErrLocked},
		{"downgrade", comp, Retention{Governance, hour.Add(time.Hour)}, false, ErrLocked},
		{"upgrade", gov, comp, false, nil},
		{"remove expired", expired, Retention{}, true, nil},
		{"shorter after expiry", expired, Retention{Governance, now.Add(time.Minute)}, false, nil},
		{"past date", Retention{}, Retention{Compliance, now}, false, ErrInvalid},
		{"bad mode", Retention{}, Retention{"LEGAL", hour}, false, ErrInvalid},
	}
	for _, c := range cases {
		noop, err := CheckRetentionChange(c.cur, c.next, now)
		if noop != c.noop || !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: noop %v err %v, want noop %v err %v", c.name, noop, err, c.noop, c.want)
		}
	}
}

func TestValidateKey(t *testing.T) {
	for _, k := range []string{"", "/a", "a//b", "a/../b", "./a", "a\nb", strings.Repeat("k", 1025)} {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalid", k, err)
		}
	}
	for _, k := range []string{"a", "tenants/t1/reports/r 1.pdf", "a/b/", "ü.txt"} {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
}

func TestCheckPresignTTL(t *testing.T) {
	for _, ttl := range []time.Duration{0, -time.Second, MaxPresignTTL + time.Second} {
		if err := CheckPresignTTL(ttl); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckPresignTTL(%s) = %v, want ErrInvalid", ttl, err)
		}
	}
	if err := CheckPresignTTL(time.Minute); err != nil {
		t.Error(err)
	}
}
