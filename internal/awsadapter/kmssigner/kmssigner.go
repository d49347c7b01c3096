// Package kmssigner is the AWS signer.Signer: an asymmetric KMS key (ECC_NIST_P256,
// SIGN_VERIFY) signing raw messages with ECDSA_SHA_256. The private key never leaves KMS;
// the public key is fetched once and cached for offline verification.
package kmssigner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/signer"
)

// API is the part of the KMS client the signer uses.
type API interface {
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

// Signer signs with one KMS key.
type Signer struct {
	client API
	keyID  string

	mu  sync.Mutex
	pub []byte
}

var _ signer.Signer = (*Signer)(nil)

// New returns a signer for keyID (a key id, key ARN or alias).
func New(client API, keyID string) *Signer {
	return &Signer{client: client, keyID: keyID}
}

// CreateKey creates a key fit for this signer and returns its ARN. It is for tests and
// emulator setup; in AWS the key belongs to the CDK stack.
func CreateKey(ctx context.Context, client interface {
	CreateKey(context.Context, *kms.CreateKeyInput, ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
}, description string) (string, error) {
	out, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec:     types.KeySpecEccNistP256,
		KeyUsage:    types.KeyUsageTypeSignVerify,
		Description: aws.String(description),
	})
	if err != nil {
		return "", fmt.Errorf("kms create signing key: %w", err)
	}
	return aws.ToString(out.KeyMetadata.Arn), nil
}

func (s *Signer) KeyID() string     { return s.keyID }
func (s *Signer) Algorithm() string { return signer.ECDSAP256 }

func (s *Signer) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if len(msg) > signer.MaxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes exceeds %d", signer.ErrInvalid, len(msg), signer.MaxMessage)
	}
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.keyID),
		Message:          msg,
		MessageType:      types.MessageTypeRaw,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("kms sign with %s: %w", s.keyID, translate(err))
	}
	return out.Signature, nil
}

// PublicKey returns the key's PKIX DER public key, after checking KMS describes the key
// this signer claims: a verifier trusting Algorithm() must not be handed another kind.
func (s *Signer) PublicKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub != nil {
		return slices.Clone(s.pub), nil
	}
	out, err := s.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(s.keyID)})
	if err != nil {
		return nil, fmt.Errorf("kms public key of %s: %w", s.keyID, translate(err))
	}
	if out.KeySpec != types.KeySpecEccNistP256 || out.KeyUsage != types.KeyUsageTypeSignVerify ||
		!slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpecEcdsaSha256) {
		return nil, fmt.Errorf("%w: kms key %s is %s/%s, want %s/%s", signer.ErrInvalid, s.keyID,
			out.KeySpec, out.KeyUsage, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	}
	s.pub = out.PublicKey
	return slices.Clone(s.pub), nil
}

// translate maps KMS errors that mean "this request can never succeed" onto ErrInvalid and
// keeps the SDK error in the chain for logs.
func translate(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ValidationException", "InvalidKeyUsageException", "UnsupportedOperationException":
			return fmt.Errorf("%w: %w", signer.ErrInvalid, err)
		}
	}
	return err
}
