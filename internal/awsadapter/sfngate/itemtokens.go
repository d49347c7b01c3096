package sfngate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// TokenItems is the part of the item store ItemTokens needs: conditional puts are the
// compare-and-set that makes one claim win (DynamoDB's attribute_not_exists in AWS).
type TokenItems interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Put(ctx context.Context, w itemstore.Write) (itemstore.Item, error)
}

// ItemTokens is the TokenStore on the product's item store (the DynamoDB table in AWS), so
// every Lambda that opens, decides or polls gates shares tokens and claims.
type ItemTokens struct {
	items TokenItems
}

var _ TokenStore = (*ItemTokens)(nil)

// NewItemTokens returns a token store on items.
func NewItemTokens(items TokenItems) *ItemTokens { return &ItemTokens{items: items} }

// Gate refs are unique across tenants (they are delivery ids), so one partition per gate.
func gateKey(ref string) string { return "GATE#" + ref }

const (
	tokenSK = "TOKEN"
	claimSK = "CLAIM"
)

func (s *ItemTokens) PutToken(ctx context.Context, ref, token string) error {
	data, err := json.Marshal(map[string]string{"token": token})
	if err != nil {
		return err
	}
	_, err = s.items.Put(ctx, itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: gateKey(ref), SK: tokenSK, Data: data}})
	if errors.Is(err, itemstore.ErrConflict) {
		return nil // a repeat keeps the first
	}
	if err != nil {
		return fmt.Errorf("record task token of gate %s: %w", ref, err)
	}
	return nil
}

func (s *ItemTokens) Token(ctx context.Context, ref string) (string, error) {
	it, err := s.items.Get(ctx, gateKey(ref), tokenSK)
	if errors.Is(err, itemstore.ErrNotFound) {
		return "", ErrNoToken
	}
	if err != nil {
		return "", fmt.Errorf("read task token of gate %s: %w", ref, err)
	}
	var v struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(it.Data, &v); err != nil {
		return "", fmt.Errorf("decode task token of gate %s: %w", ref, err)
	}
	return v.Token, nil
}

func (s *ItemTokens) Claim(ctx context.Context, ref string, c Claim) (Claim, bool, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return Claim{}, false, err
	}
	_, err = s.items.Put(ctx, itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: gateKey(ref), SK: claimSK, Data: data}})
	if errors.Is(err, itemstore.ErrConflict) {
		held, ok, err := s.Claimed(ctx, ref)
		if err == nil && !ok {
			err = fmt.Errorf("claim of gate %s vanished", ref)
		}
		return held, false, err
	}
	if err != nil {
		return Claim{}, false, fmt.Errorf("claim gate %s: %w", ref, err)
	}
	return cloneClaim(c), true, nil
}

func (s *ItemTokens) Claimed(ctx context.Context, ref string) (Claim, bool, error) {
	it, err := s.items.Get(ctx, gateKey(ref), claimSK)
	if errors.Is(err, itemstore.ErrNotFound) {
		return Claim{}, false, nil
	}
	if err != nil {
		return Claim{}, false, fmt.Errorf("read claim of gate %s: %w", ref, err)
	}
	var c Claim
	if err := json.Unmarshal(it.Data, &c); err != nil {
		return Claim{}, false, fmt.Errorf("decode claim of gate %s: %w", ref, err)
	}
	return c, true, nil
}
