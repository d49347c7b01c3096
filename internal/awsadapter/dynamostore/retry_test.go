package dynamostore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// lossyClient delivers every request, but loses the response body of the next UpdateItem
// once armed, the way a connection closed under load does ("use of closed network
// connection", which the SDK retries): the write is applied and the caller cannot know.
// before runs after the lost request reached the server and before the SDK's retry.
type lossyClient struct {
	mu     sync.Mutex
	armed  bool
	before func()
}

func (c *lossyClient) arm(before func()) {
	c.mu.Lock()
	c.armed, c.before = true, before
	c.mu.Unlock()
}

func (c *lossyClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".UpdateItem") {
		return resp, err
	}
	c.mu.Lock()
	hit, before := c.armed, c.before
	c.armed = false
	c.mu.Unlock()
	if !hit {
		return resp, nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if before != nil {
		before()
	}
	resp.Body = io.NopCloser(failingReader{})
	return resp, nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) {
	return 0, &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
}

// TestConditionalPutResponseLost: a conditional put whose first attempt was applied but
// whose response was lost is retried by the SDK, and the retry fails its own condition. The
// store must report the write as done (it was), not as a conflict, and must still report a
// real conflict when another writer replaced the item before the retry.
func TestConditionalPutResponseLost(t *testing.T) {
	ctx := context.Background()
	plain, _ := clients(t)
	name := newTable(t, plain)
	cfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: emulatortest.MiniStack(t)})
	if err != nil {
		t.Fatal(err)
	}
	lossy := &lossyClient{}
	cfg.HTTPClient = lossy
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), name, clock.System{})
	other := dynamostore.New(plain, name, clock.System{})
	put := func(data string, cond itemstore.Condition, ver int64) (itemstore.Item, error) {
		return s.Put(ctx, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "LEASE", Data: []byte(data)}, Cond: cond, ExpectVersion: ver})
	}

	lossy.arm(nil)
	got, err := put(`{"holder":"a"}`, itemstore.IfAbsent, 0)
	if err != nil || got.Version != 1 || string(got.Data) != `{"holder":"a"}` {
		t.Fatalf("IfAbsent put with a lost response: %+v, %v; want version 1", got, err)
	}
	lossy.arm(nil)
	got, err = put(`{"holder":"a","renewed":true}`, itemstore.IfVersion, 1)
	if err != nil || got.Version != 2 {
		t.Fatalf("IfVersion put with a lost response: %+v, %v; want version 2", got, err)
	}

	// Another writer moves the item on before the retry: that conflict is real.
	lossy.arm(func() {
		if _, err := other.Put(ctx, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "LEASE", Data: []byte(`{"holder":"b"}`)}, Cond: itemstore.IfVersion, ExpectVersion: 3}); err != nil {
			t.Errorf("competing put: %v", err)
		}
	})
	if _, err := put(`{"holder":"a","renewed":2}`, itemstore.IfVersion, 2); !errors.Is(err, itemstore.ErrConflict) {
		t.Fatalf("lost response, then replaced by another writer: %v; want ErrConflict", err)
	}
	// And a plain conflict (no retry involved) is one too, even with the same bytes.
	if _, err := put(`{"holder":"b"}`, itemstore.IfVersion, 3); !errors.Is(err, itemstore.ErrConflict) {
		t.Fatalf("stale version: %v; want ErrConflict", err)
	}
	it, err := s.Get(ctx, "T", "LEASE")
	if err != nil || it.Version != 4 || string(it.Data) != `{"holder":"b"}` {
		t.Fatalf("stored %+v, %v; want holder b at version 4", it, err)
	}
}
