package itemstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Cursor is the position after the last item of a page: that item's keys (plus its index
// keys on GSI1), which is exactly what DynamoDB's ExclusiveStartKey holds. Callers see it
// only as the opaque base64 string in Page.Next; adapters share this encoding.
type Cursor struct {
	Index  string `json:"i,omitempty"`
	PK     string `json:"pk"`
	SK     string `json:"sk"`
	GSI1PK string `json:"g1pk,omitempty"`
	GSI1SK string `json:"g1sk,omitempty"`
}

// EncodeCursor returns the Page.Next value that resumes after it.
func EncodeCursor(index string, it Item) (string, error) {
	c := Cursor{Index: index, PK: it.PK, SK: it.SK}
	if index == GSI1 {
		c.GSI1PK, c.GSI1SK = it.GSI1PK, it.GSI1SK
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode query cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecodeCursor reads q.Cursor and rejects one that belongs to another partition or index,
// which a store would otherwise answer with items of the wrong query.
func DecodeCursor(q Query) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, fmt.Errorf("query cursor is malformed: %w", ErrInvalid)
	}
	partition := c.PK
	if q.Index == GSI1 {
		partition = c.GSI1PK
	}
	if c.Index != q.Index || partition != q.PK || c.PK == "" || c.SK == "" || (q.Index == GSI1 && c.GSI1SK == "") {
		return c, fmt.Errorf("query cursor belongs to another query: %w", ErrInvalid)
	}
	return c, nil
}
