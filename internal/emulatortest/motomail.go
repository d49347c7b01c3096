package emulatortest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// SentMail is one raw message moto's SES accepted.
type SentMail struct {
	ID           string   `json:"id"`
	Source       string   `json:"source"`
	Destinations []string `json:"destinations"`
	RawData      string   `json:"raw_data"`
}

// MotoSentMail reads every message the moto at endpoint has sent, from its state dump
// (ses.RawMessage). moto adds the To/Cc header addresses to Destinations.
func MotoSentMail(t testing.TB, endpoint string) []SentMail {
	t.Helper()
	var data struct {
		SES struct {
			RawMessage []SentMail `json:"RawMessage"`
		} `json:"ses"`
	}
	// The dump answers 500 now and then while other requests change moto's state.
	for try := 0; ; try++ {
		resp, err := http.Get(endpoint + "/moto-api/data.json")
		if err != nil {
			t.Fatalf("moto at %s: %v (scripts/emulators.sh up)", endpoint, err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(raw, &data); err != nil {
				t.Fatalf("decode moto data: %v", err)
			}
			return data.SES.RawMessage
		}
		if try == 20 {
			t.Fatalf("moto data: %d", resp.StatusCode)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// MotoMailTo returns the raw messages moto has sent to address.
func MotoMailTo(t testing.TB, endpoint, address string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, m := range MotoSentMail(t, endpoint) {
		for _, d := range m.Destinations {
			if d == address {
				out = append(out, []byte(m.RawData))
				break
			}
		}
	}
	return out
}
