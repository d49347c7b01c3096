package dynamostore

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// ChangeFromStreamRecord converts a DynamoDB Streams record (GetRecords) into a change.
func ChangeFromStreamRecord(r streamtypes.Record) (itemstore.Change, error) {
	if r.Dynamodb == nil {
		return itemstore.Change{}, fmt.Errorf("stream record %s: no dynamodb body", code(r.EventID))
	}
	d := r.Dynamodb
	var at time.Time
	if d.ApproximateCreationDateTime != nil {
		at = *d.ApproximateCreationDateTime
	}
	return changeFrom(string(r.EventName), code(d.SequenceNumber), at,
		fromStream(d.Keys), fromStream(d.OldImage), fromStream(d.NewImage))
}

// ChangeFromEventRecord converts a record of the DynamoDB stream event a Lambda receives.
func ChangeFromEventRecord(r events.DynamoDBEventRecord) (itemstore.Change, error) {
	d := r.Change
	return changeFrom(r.EventName, d.SequenceNumber, d.ApproximateCreationDateTime.Time,
		fromEvent(d.Keys), fromEvent(d.OldImage), fromEvent(d.NewImage))
}

func fromStream(m map[string]streamtypes.AttributeValue) map[string]scalar {
	if m == nil {
		return nil
	}
	out := make(map[string]scalar, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case *streamtypes.AttributeValueMemberS:
			out[k] = scalar{s: v.Value}
		case *streamtypes.AttributeValueMemberN:
			out[k] = scalar{s: v.Value, isNum: true}
		}
	}
	return out
}

func fromEvent(m map[string]events.DynamoDBAttributeValue) map[string]scalar {
	if m == nil {
		return nil
	}
	out := make(map[string]scalar, len(m))
	for k, v := range m {
		// String() and Number() panic on another type, so the type is checked first.
		switch v.DataType() {
		case events.DataTypeString:
			out[k] = scalar{s: v.String()}
		case events.DataTypeNumber:
			out[k] = scalar{s: v.Number(), isNum: true}
		}
	}
	return out
}

// changeFrom builds a change from the parts every record shape has. It needs both images
// where the kind has them, so a stream without NEW_AND_OLD_IMAGES fails loudly here.
func changeFrom(name, seq string, at time.Time, keys, oldImg, newImg map[string]scalar) (itemstore.Change, error) {
	c := itemstore.Change{Seq: seq, Kind: itemstore.ChangeKind(name), PK: keys[AttrPK].s, SK: keys[AttrSK].s, At: at.UTC()}
	wantOld, wantNew := c.Kind != itemstore.Inserted, c.Kind != itemstore.Removed
	switch {
	case c.Kind != itemstore.Inserted && c.Kind != itemstore.Modified && c.Kind != itemstore.Removed:
		return itemstore.Change{}, fmt.Errorf("stream record %s: unknown event %q", seq, name)
	case c.PK == "" || c.SK == "":
		return itemstore.Change{}, fmt.Errorf("stream record %s: no key", seq)
	case wantOld && oldImg == nil, wantNew && newImg == nil:
		return itemstore.Change{}, fmt.Errorf("stream record %s (%s %s/%s): image missing, stream view type must be NEW_AND_OLD_IMAGES", seq, name, c.PK, c.SK)
	}
	var err error
	if c.Old, err = image(oldImg, wantOld); err != nil {
		return itemstore.Change{}, fmt.Errorf("stream record %s old image: %w", seq, err)
	}
	if c.New, err = image(newImg, wantNew); err != nil {
		return itemstore.Change{}, fmt.Errorf("stream record %s new image: %w", seq, err)
	}
	return c, nil
}

func image(m map[string]scalar, want bool) (*itemstore.Item, error) {
	if !want {
		return nil, nil
	}
	it, err := itemFrom(m)
	if err != nil {
		return nil, err
	}
	return &it, nil
}
