package dynamostore_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

func loadEvent(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/stream-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("decode event: %v", err)
	}
	return ev
}

func TestChangeFromEventRecord(t *testing.T) {
	ev := loadEvent(t)
	var got []itemstore.Change
	for _, r := range ev.Records {
		c, err := dynamostore.ChangeFromEventRecord(r)
		if err != nil {
			t.Fatalf("record %s: %v", r.EventID, err)
		}
		got = append(got, c)
	}
	q1 := &itemstore.Item{PK: "T#1", SK: "REPORT#1", GSI1PK: "T#1#REPORTS", GSI1SK: "2025-01-01",
		ExpiresAt: time.Unix(1767268800, 0).UTC(), Version: 1, Data: []byte(`{"title":"Q1"}`)}
	want := []itemstore.Change{
		{Seq: "100000000000000000001", Kind: itemstore.Inserted, PK: "T#1", SK: "REPORT#1", New: q1, At: time.Unix(1735732800, 0).UTC()},
		{Seq: "100000000000000000002", Kind: itemstore.Modified, PK: "T#1", SK: "REPORT#1", Old: q1,
			New: &itemstore.Item{PK: "T#1", SK: "REPORT#1", Version: 2, Data: []byte(`{"title":"Q1 final"}`)}, At: time.Unix(1735732801, 0).UTC()},
		{Seq: "100000000000000000003", Kind: itemstore.Removed, PK: "T#1", SK: "LINK#9",
			Old: &itemstore.Item{PK: "T#1", SK: "LINK#9", ExpiresAt: time.Unix(1767268800, 0).UTC(), Version: 3, Data: []byte(`{}`)}, At: time.Unix(1767268900, 0).UTC()},
	}
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameChange(got[i], want[i]) {
			t.Errorf("change %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

func sameChange(a, b itemstore.Change) bool {
	return a.Seq == b.Seq && a.Kind == b.Kind && a.PK == b.PK && a.SK == b.SK && a.At.Equal(b.At) &&
		sameImage(a.Old, b.Old) && sameImage(a.New, b.New)
}

func sameImage(a, b *itemstore.Item) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.PK == b.PK && a.SK == b.SK && a.GSI1PK == b.GSI1PK && a.GSI1SK == b.GSI1SK &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.Version == b.Version && bytes.Equal(a.Data, b.Data)
}

func TestChangeFromEventRecordRejects(t *testing.T) {
	base := loadEvent(t).Records[1] // a MODIFY
	cases := map[string]func(r *events.DynamoDBEventRecord){
		"keys only stream": func(r *events.DynamoDBEventRecord) { r.Change.OldImage, r.Change.NewImage = nil, nil },
		"new image only":   func(r *events.DynamoDBEventRecord) { r.Change.OldImage = nil },
		"unknown event":    func(r *events.DynamoDBEventRecord) { r.EventName = "UPSERT" },
		"no keys":          func(r *events.DynamoDBEventRecord) { r.Change.Keys = nil },
		"ver not a number": func(r *events.DynamoDBEventRecord) {
			img := map[string]events.DynamoDBAttributeValue{}
			for k, v := range r.Change.NewImage {
				img[k] = v
			}
			img["ver"] = events.NewStringAttribute("2")
			r.Change.NewImage = img
		},
	}
	for name, mutate := range cases {
		r := base
		mutate(&r)
		if _, err := dynamostore.ChangeFromEventRecord(r); err == nil || !strings.Contains(err.Error(), "stream record") {
			t.Errorf("%s: err %v, want a stream record error", name, err)
		}
	}
}
