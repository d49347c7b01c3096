// Package awsenv builds a Lambda function's aws.Config from its environment alone.
//
// Lambda hands every function its region and its role's credentials in environment
// variables, so the functions need none of the shared-config loader (profiles, SSO, web
// identity, IMDS). Leaving that loader and its clients unlinked takes a millisecond or more
// off every cold start. Tools and tests that run elsewhere use awsclient.Load.
package awsenv

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The variables Lambda sets for the function's execution role.
const (
	envAccessKeyID     = "AWS_ACCESS_KEY_ID"
	envSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	envSessionToken    = "AWS_SESSION_TOKEN"
)

// ErrNoCredentials: outside Lambda (and without an emulator endpoint) the variables are unset.
var ErrNoCredentials = errors.New("no AWS credentials in the environment: " + envAccessKeyID + " and " +
	envSecretAccessKey + " are required (Lambda sets them for the function's role)")

// Load returns the config for region. With an emulator endpoint every client talks to it
// with static test credentials; otherwise the credentials come from the environment.
func Load(region, endpoint string, lookup func(string) (string, bool)) (aws.Config, error) {
	if region == "" {
		region = "us-east-1"
	}
	cfg := aws.Config{Region: region}
	if endpoint != "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("test", "test", "")
		cfg.BaseEndpoint = aws.String(endpoint)
		return cfg, nil
	}
	id, _ := lookup(envAccessKeyID)
	secret, _ := lookup(envSecretAccessKey)
	if id == "" || secret == "" {
		return aws.Config{}, ErrNoCredentials
	}
	token, _ := lookup(envSessionToken)
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, token))
	return cfg, nil
}
