package awsenv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsenv"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestCredentialsComeFromTheLambdaEnvironment(t *testing.T) {
	cfg, err := awsenv.Load("eu-west-1", "", lookup(map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session",
	}))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Fatalf("region %q creds %+v", cfg.Region, creds)
	}
	if cfg.BaseEndpoint != nil {
		t.Fatalf("real AWS must not get an endpoint override, got %q", *cfg.BaseEndpoint)
	}
}

func TestMissingCredentialsAreAStartupError(t *testing.T) {
	for _, env := range []map[string]string{{}, {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY": "secret"}} {
		if _, err := awsenv.Load("", "", lookup(env)); !errors.Is(err, awsenv.ErrNoCredentials) {
			t.Fatalf("env %v: got %v, want ErrNoCredentials", env, err)
		}
	}
}

func TestEmulatorEndpointUsesTestCredentials(t *testing.T) {
	cfg, err := awsenv.Load("", "http://127.0.0.1:4566", lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" || *cfg.BaseEndpoint != "http://127.0.0.1:4566" || creds.AccessKeyID != "test" {
		t.Fatalf("region %q endpoint %q creds %+v", cfg.Region, *cfg.BaseEndpoint, creds)
	}
}
