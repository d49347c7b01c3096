package dynamofeed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamofeed"
)

// fakeShard is a shard of the fake stream: its records are sequence numbers of writes to
// key "T/A" (ver = its index in the lineage + 1).
type fakeShard struct {
	id, parent string
	seqs       []int
	closed     bool
}

// fakeStreams serves DescribeTable, DescribeStream, GetShardIterator and GetRecords for a
// stream whose shards split, which MiniStack (one synthetic shard) cannot show.
type fakeStreams struct{ shards []fakeShard }

func (f *fakeStreams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	var out any
	switch target[strings.LastIndex(target, ".")+1:] {
	case "DescribeTable":
		out = map[string]any{"Table": map[string]any{"TableName": "t", "LatestStreamArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x"}}
	case "DescribeStream":
		out = f.describe()
	case "GetShardIterator":
		out = f.iterator(in)
	case "GetRecords":
		out = f.records(in)
	default:
		http.Error(w, "unexpected "+target, http.StatusBadRequest)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)) // the DynamoDB client checks it
	w.Write(body)
}

func (f *fakeStreams) describe() any {
	var shards []map[string]any
	for _, s := range f.shards {
		rng := map[string]any{"StartingSequenceNumber": strconv.Itoa(s.seqs[0])}
		if s.closed {
			rng["EndingSequenceNumber"] = strconv.Itoa(s.seqs[len(s.seqs)-1])
		}
		sh := map[string]any{"ShardId": s.id, "SequenceNumberRange": rng}
		if s.parent != "" {
			sh["ParentShardId"] = s.parent
		}
		shards = append(shards, sh)
	}
	return map[string]any{"StreamDescription": map[string]any{"Shards": shards, "StreamStatus": "ENABLED"}}
}

func (f *fakeStreams) shard(id string) fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	panic("no shard " + id)
}

// An iterator is "shard|position in the shard".
func (f *fakeStreams) iterator(in map[string]any) any {
	s, pos := f.shard(in["ShardId"].(string)), 0
	if in["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER" {
		for i, q := range s.seqs {
			if strconv.Itoa(q) == in["SequenceNumber"] {
				pos = i + 1
			}
		}
	}
	return map[string]any{"ShardIterator": fmt.Sprintf("%s|%d", s.id, pos)}
}

func (f *fakeStreams) records(in map[string]any) any {
	id, p, _ := strings.Cut(in["ShardIterator"].(string), "|")
	pos, _ := strconv.Atoi(p)
	s := f.shard(id)
	end := min(len(s.seqs), pos+int(in["Limit"].(float64)))
	var recs []any
	for _, q := range s.seqs[pos:end] {
		recs = append(recs, record(q))
	}
	out := map[string]any{"Records": recs}
	if !s.closed || end < len(s.seqs) {
		out["NextShardIterator"] = fmt.Sprintf("%s|%d", id, end)
	}
	return out
}

func record(seq int) any {
	img := func(ver int) map[string]any {
		return map[string]any{"pk": map[string]string{"S": "T"}, "sk": map[string]string{"S": "A"},
			"ver": map[string]string{"N": strconv.Itoa(ver)}, "data": map[string]string{"S": "{}"}}
	}
	d := map[string]any{"Keys": map[string]any{"pk": map[string]string{"S": "T"}, "sk": map[string]string{"S": "A"}},
		"SequenceNumber": strconv.Itoa(seq), "ApproximateCreationDateTime": 1735732800, "NewImage": img(seq)}
	name := "INSERT"
	if seq > 1 {
		name, d["OldImage"] = "MODIFY", img(seq-1)
	}
	return map[string]any{"eventName": name, "dynamodb": d}
}

func fakeStore(t *testing.T, f *fakeStreams) *dynamofeed.Feed {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return dynamofeed.New(dynamodb.NewFromConfig(cfg), dynamodbstreams.NewFromConfig(cfg), "t")
}

// TestFeedReadsParentShardsFirst: after a shard split, one key's changes continue in the
// child shard; reading the child before its parent is finished would reorder them. The
// child is listed first to make a naive reader fail.
func TestFeedReadsParentShardsFirst(t *testing.T) {
	f := &fakeStreams{shards: []fakeShard{
		{id: "shard-3", parent: "shard-2", seqs: []int{6, 7}},
		{id: "shard-2", parent: "shard-1", seqs: []int{3, 4, 5}, closed: true},
		{id: "shard-1", seqs: []int{1, 2}, closed: true},
	}}
	s := fakeStore(t, f)
	for _, limit := range []int{100, 1, 2, 3} {
		var seqs []string
		cur := ""
		for range 20 {
			cs, next, err := s.ReadChanges(context.Background(), cur, limit)
			if err != nil {
				t.Fatalf("limit %d: ReadChanges: %v", limit, err)
			}
			if len(cs) > limit {
				t.Fatalf("limit %d: %d changes", limit, len(cs))
			}
			for _, c := range cs {
				if c.New == nil || strconv.FormatInt(c.New.Version, 10) != c.Seq {
					t.Fatalf("limit %d: change %+v does not carry its own version", limit, c)
				}
				seqs = append(seqs, c.Seq)
			}
			cur = next
			if len(cs) == 0 {
				break
			}
		}
		if got := strings.Join(seqs, ","); got != "1,2,3,4,5,6,7" {
			t.Errorf("limit %d: read %s, want 1,2,3,4,5,6,7 once each in order", limit, got)
		}
	}
}
