package kmssigner_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/kmssigner"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/internal/signer/signertest"
)

func client(t *testing.T) *kms.Client {
	t.Helper()
	ep := emulatortest.MiniStack(t)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	return kms.NewFromConfig(cfg)
}

func TestContractMiniStack(t *testing.T) {
	c := client(t)
	signertest.Run(t, func(t *testing.T) signer.Signer {
		arn, err := kmssigner.CreateKey(context.Background(), c, "signertest "+t.Name())
		if err != nil {
			t.Fatal(err)
		}
		return kmssigner.New(c, arn)
	})
}

// A symmetric key cannot sign: PublicKey must refuse it instead of returning a key that
// signer.Verify would then misread.
func TestRejectsWrongKeyKind(t *testing.T) {
	c := client(t)
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{
		KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := kmssigner.New(c, *out.KeyMetadata.KeyId)
	if _, err := s.PublicKey(context.Background()); !errors.Is(err, signer.ErrInvalid) {
		t.Errorf("PublicKey of an RSA key = %v, want ErrInvalid", err)
	}
	if _, err := s.Sign(context.Background(), []byte("x")); !errors.Is(err, signer.ErrInvalid) {
		t.Errorf("Sign with an RSA key = %v, want ErrInvalid", err)
	}
}
