package s3worm

import (
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

// translate maps an S3 error to the port's errors, keeping the SDK error in the chain for
// logs. A nil err stays nil.
func translate(op, key, versionID string, err error) error {
	if err == nil {
		return nil
	}
	if sentinel := portError(op, err); sentinel != nil {
		return fmt.Errorf("s3worm: %s %q@%s: %w: %w", op, key, versionID, sentinel, err)
	}
	return fmt.Errorf("s3worm: %s %q@%s: %w", op, key, versionID, err)
}

func portError(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchVersion":
			return objectstore.ErrNotFound
		case "PreconditionFailed", "ConditionalRequestConflict":
			// If-None-Match: * lost to an existing key, or to a concurrent conditional write.
			return objectstore.ErrExists
		case "AccessDenied":
			// On a delete or retention change this is Object Lock refusing; elsewhere it is
			// a permissions problem and stays unmapped.
			if op == "delete" || op == "set retention" {
				return objectstore.ErrLocked
			}
		case "InvalidArgument", "InvalidRequest", "InvalidObjectState", "MalformedXML":
			return objectstore.ErrInvalid
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return objectstore.ErrNotFound // HEAD errors have no body, hence no code
		case http.StatusMethodNotAllowed:
			return objectstore.ErrNotFound // the version is a delete marker: no object there
		case http.StatusPreconditionFailed:
			return objectstore.ErrExists
		}
	}
	return nil
}
