// Package sesmail is the AWS mailer adapter: SES v2 SendEmail with raw MIME content.
package sesmail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
)

var _ mailer.Sender = (*Sender)(nil)

// Sender sends through SES v2.
type Sender struct {
	client *sesv2.Client
}

// New returns a Sender on client (in AWS, or an emulator through the config's BaseEndpoint).
func New(client *sesv2.Client) *Sender { return &Sender{client: client} }

// Send sends m.Raw as is, to m.To only (the envelope, not the headers, decides who
// receives it), and returns the SES message id.
func (s *Sender) Send(ctx context.Context, m mailer.Message) (string, error) {
	if err := check(m); err != nil {
		return "", err
	}
	out, err := s.client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: m.To},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: m.Raw}},
	})
	if err != nil {
		return "", translate(err)
	}
	if aws.ToString(out.MessageId) == "" {
		return "", errors.New("sesmail: send: SES returned no message id")
	}
	return aws.ToString(out.MessageId), nil
}

// check refuses locally what SES would refuse for good, without spending a request.
func check(m mailer.Message) error {
	if len(m.To) == 0 {
		return fmt.Errorf("sesmail: no recipients: %w", mailer.ErrRejected)
	}
	if len(m.Raw) == 0 {
		return fmt.Errorf("sesmail: empty message: %w", mailer.ErrRejected)
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		return fmt.Errorf("sesmail: sender %q: %v: %w", m.From, err, mailer.ErrRejected)
	}
	for _, to := range m.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("sesmail: recipient %q: %v: %w", to, err, mailer.ErrRejected)
		}
	}
	return nil
}

// translate maps SES errors to the port's, keeping the SDK error in the chain for logs.
func translate(err error) error {
	if sentinel := portError(err); sentinel != nil {
		return fmt.Errorf("sesmail: send: %w: %w", sentinel, err)
	}
	return fmt.Errorf("sesmail: send: %w", err)
}

func portError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "MessageRejected", "MailFromDomainNotVerifiedException", "MailFromDomainNotVerified",
			"AccountSuspendedException", "SendingPausedException", "AccountSendingPausedException",
			"BadRequestException", "InvalidParameterValue", "NotFoundException":
			return mailer.ErrRejected
		case "TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException":
			return mailer.ErrThrottled
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId",
			"SignatureDoesNotMatch", "InvalidSignatureException", "ExpiredToken", "ExpiredTokenException",
			"MissingAuthenticationToken", "IncompleteSignature":
			return mailer.ErrAuth
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusTooManyRequests:
			return mailer.ErrThrottled
		case http.StatusUnauthorized, http.StatusForbidden:
			return mailer.ErrAuth
		}
	}
	return nil
}
