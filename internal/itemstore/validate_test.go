package itemstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

func TestValidateWrite(t *testing.T) {
	ok := itemstore.Item{PK: strings.Repeat("p", itemstore.MaxPKBytes), SK: strings.Repeat("s", itemstore.MaxSKBytes), Data: []byte(`{"é":1}`)}
	valid := []itemstore.Write{
		{Item: ok},
		{Kind: itemstore.Delete, Item: ok, Cond: itemstore.IfVersion, ExpectVersion: 3},
		{Kind: itemstore.Check, Item: ok, Cond: itemstore.IfAbsent},
	}
	for _, w := range valid {
		if err := itemstore.ValidateWrite(w); err != nil {
			t.Errorf("ValidateWrite(kind %d cond %d): %v", w.Kind, w.Cond, err)
		}
	}
	bad := map[string]itemstore.Write{
		"PK too long":        {Item: itemstore.Item{PK: ok.PK + "p", SK: "s"}},
		"SK too long":        {Item: itemstore.Item{PK: "p", SK: ok.SK + "s"}},
		"key not UTF-8":      {Item: itemstore.Item{PK: "p\xff", SK: "s"}},
		"data not UTF-8":     {Item: itemstore.Item{PK: "p", SK: "s", Data: []byte{0xff}}},
		"GSI1SK too long":    {Item: itemstore.Item{PK: "p", SK: "s", GSI1PK: "g", GSI1SK: ok.SK + "s"}},
		"unknown kind":       {Kind: itemstore.WriteKind(7), Item: itemstore.Item{PK: "p", SK: "s"}},
		"negative condition": {Item: itemstore.Item{PK: "p", SK: "s"}, Cond: itemstore.Condition(-1)},
	}
	for name, w := range bad {
		if err := itemstore.ValidateWrite(w); !errors.Is(err, itemstore.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

func TestValidateQuery(t *testing.T) {
	if err := itemstore.ValidateQuery(itemstore.Query{Index: itemstore.GSI1, PK: "g", SKFrom: "a", SKTo: "a", Limit: itemstore.MaxQueryLimit}); err != nil {
		t.Errorf("valid query: %v", err)
	}
	if err := itemstore.ValidateQuery(itemstore.Query{PK: "p", SKPrefix: "\xff"}); !errors.Is(err, itemstore.ErrInvalid) {
		t.Errorf("prefix not UTF-8: err %v, want ErrInvalid", err)
	}
}
