// Package signertest is the contract suite every signer.Signer adapter passes unchanged.
package signertest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// New returns a signer with a key of its own: two calls must give two different keys.
type New func(t *testing.T) signer.Signer

// Run runs the contract suite against the adapter built by newSigner.
func Run(t *testing.T, newSigner New) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newSigner(t)) })
	t.Run("Tampered", func(t *testing.T) { testTampered(t, newSigner(t)) })
	t.Run("OtherKey", func(t *testing.T) { testOtherKey(t, newSigner(t), newSigner(t)) })
	t.Run("TooLarge", func(t *testing.T) { testTooLarge(t, newSigner(t)) })
	t.Run("KeyIDStable", func(t *testing.T) { testKeyIDStable(t, newSigner(t)) })
}

func sign(t *testing.T, s signer.Signer, msg []byte) (sig, pub []byte) {
	t.Helper()
	ctx := context.Background()
	sig, err := s.Sign(ctx, msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	pub, err = s.PublicKey(ctx)
	if err != nil {
		t.Fatalf("PublicKey: %v", err)
	}
	return sig, pub
}

func testRoundTrip(t *testing.T, s signer.Signer) {
	for _, msg := range [][]byte{
		[]byte(`{"manifest":"sha256:00"}`),
		{},
		bytes.Repeat([]byte{0xA5}, signer.MaxMessage),
	} {
		sig, pub := sign(t, s, msg)
		if err := signer.Verify(s.Algorithm(), pub, msg, sig); err != nil {
			t.Fatalf("Verify of a %d-byte message: %v", len(msg), err)
		}
	}
}

func testTampered(t *testing.T, s signer.Signer) {
	msg := []byte("checkpoint 42 root sha256:abcd")
	sig, pub := sign(t, s, msg)

	badMsg := bytes.Clone(msg)
	badMsg[0] ^= 1
	if err := signer.Verify(s.Algorithm(), pub, badMsg, sig); !errors.Is(err, signer.ErrBadSignature) {
		t.Errorf("Verify of a tampered message = %v, want ErrBadSignature", err)
	}
	badSig := bytes.Clone(sig)
	badSig[len(badSig)-1] ^= 1
	if err := signer.Verify(s.Algorithm(), pub, msg, badSig); !errors.Is(err, signer.ErrBadSignature) {
		t.Errorf("Verify of a tampered signature = %v, want ErrBadSignature", err)
	}
}

func testOtherKey(t *testing.T, a, b signer.Signer) {
	if a.KeyID() == b.KeyID() {
		t.Fatalf("two signers share key id %q", a.KeyID())
	}
	msg := []byte("evidence record")
	sig, _ := sign(t, a, msg)
	_, otherPub := sign(t, b, msg)
	if err := signer.Verify(a.Algorithm(), otherPub, msg, sig); !errors.Is(err, signer.ErrBadSignature) {
		t.Errorf("Verify with another signer's key = %v, want ErrBadSignature", err)
	}
}

func testTooLarge(t *testing.T, s signer.Signer) {
	_, err := s.Sign(context.Background(), make([]byte, signer.MaxMessage+1))
	if !errors.Is(err, signer.ErrInvalid) {
		t.Errorf("Sign of %d bytes = %v, want ErrInvalid", signer.MaxMessage+1, err)
	}
}

func testKeyIDStable(t *testing.T, s signer.Signer) {
	first := s.KeyID()
	if first == "" {
		t.Fatal("KeyID is empty")
	}
	sign(t, s, []byte("x"))
	if again := s.KeyID(); again != first {
		t.Errorf("KeyID changed from %q to %q", first, again)
	}
	switch s.Algorithm() {
	case signer.Ed25519, signer.ECDSAP256:
	default:
		t.Errorf("Algorithm() = %q, not one signer.Verify knows", s.Algorithm())
	}
}
