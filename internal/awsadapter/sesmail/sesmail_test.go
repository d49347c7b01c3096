package sesmail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer/mailertest"
)

func TestContractMoto(t *testing.T) {
	mailertest.Run(t, func(t *testing.T) mailertest.Harness {
		ep := emulatortest.MotoMail(t)
		ctx := context.Background()
		cfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: ep})
		if err != nil {
			t.Fatal(err)
		}
		client := sesv2.NewFromConfig(cfg)
		// Random domains: other packages share moto, and a domain identity verified by one
		// of them would verify every address under it.
		from := "reports@" + randHex(t) + ".example.com"
		if _, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(from)}); err != nil {
			t.Fatalf("verify %s: %v", from, err)
		}
		return mailertest.Harness{
			Sender:     New(client),
			From:       from,
			Unverified: "reports@" + randHex(t) + ".example.com",
			ReadBack:   func(t *testing.T, id string) mailer.Message { return motoSent(t, ep, id) },
		}
	})
}

// motoSent reads a sent raw message from moto's model dump, where SES keeps it as
// ses.RawMessage {id, source, destinations, raw_data}. moto adds the To/Cc header
// addresses to destinations, so the suite only checks that the envelope's are there.
func motoSent(t *testing.T, ep, id string) mailer.Message {
	t.Helper()
	for _, m := range emulatortest.MotoSentMail(t, ep) {
		if m.ID == id {
			return mailer.Message{From: m.Source, To: m.Destinations, Raw: []byte(m.RawData)}
		}
	}
	t.Fatalf("message %s not in moto's sent messages", id)
	return mailer.Message{}
}

func TestTranslate(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{&types.MessageRejected{Message: aws.String("Email address not verified")}, mailer.ErrRejected},
		{&types.MailFromDomainNotVerifiedException{}, mailer.ErrRejected},
		{&types.SendingPausedException{}, mailer.ErrRejected},
		{&types.AccountSuspendedException{}, mailer.ErrRejected},
		{&types.TooManyRequestsException{}, mailer.ErrThrottled},
		{&types.LimitExceededException{}, mailer.ErrThrottled},
		{&smithy.GenericAPIError{Code: "Throttling"}, mailer.ErrThrottled},
		{&smithy.GenericAPIError{Code: "UnrecognizedClientException"}, mailer.ErrAuth},
		{&smithy.GenericAPIError{Code: "AccessDeniedException"}, mailer.ErrAuth},
		{&smithy.GenericAPIError{Code: "InternalFailure"}, nil},
	}
	all := []error{mailer.ErrRejected, mailer.ErrThrottled, mailer.ErrAuth}
	for _, c := range cases {
		got := translate(c.err)
		for _, sentinel := range all {
			if errors.Is(got, sentinel) != (sentinel == c.want) {
				t.Errorf("translate(%T %v) = %v, want %v", c.err, c.err, got, c.want)
			}
		}
		if !errors.Is(got, c.err) {
			t.Errorf("translate(%v) dropped the SDK error", c.err)
		}
	}
}

func randHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
