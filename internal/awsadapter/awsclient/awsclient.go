// Package awsclient builds the aws.Config every AWS adapter uses, in AWS or against an
// emulator endpoint.
package awsclient

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Options selects where the clients talk to.
type Options struct {
	Region string
	// Endpoint, when set, points every client at an emulator (with static test credentials).
	// Adapters set BaseEndpoint from it (and path-style addressing for S3).
	Endpoint string
}

// Load returns the config for real AWS (default credential chain) or for an emulator.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if o.Endpoint != "" {
		opts = append(opts,
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
			config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}
