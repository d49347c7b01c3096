package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// Stack is the whole service: data, signing key and the HTTP API.
type Stack struct {
	awscdk.Stack
	Data    *Data
	Signing *Signing
	API     *API
}

// Stack outputs the deploy scripts and the end-to-end test read.
const (
	OutAPIID          = "ApiId"
	OutAPIEndpoint    = "ApiEndpoint"
	OutTableName      = "TableName"
	OutBucketName     = "ArtifactBucketName"
	OutSigningKeyArn  = "SigningKeyArn"
	OutArtifactKeyArn = "ArtifactKeyArn"
	OutSenderIdentity = "SenderIdentity"
)

// NewStack builds the stack for cfg. The route table (internal/api.Routes) decides the
// routes and their functions.
func NewStack(scope constructs.Construct, cfg Config) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	access, err := accessFor(api.Routes())
	if err != nil {
		return nil, err
	}
	logDays, err := logRetention(cfg.LogRetentionDays)
	if err != nil {
		return nil, err
	}
	props := &awscdk.StackProps{
		Description: jsii.String("AISPM Report Center (" + cfg.Target + ")"),
	}
	if cfg.Account != "" || cfg.Region != "" {
		props.Env = &awscdk.Environment{}
		if cfg.Account != "" {
			props.Env.Account = jsii.String(cfg.Account)
		}
		if cfg.Region != "" {
			props.Env.Region = jsii.String(cfg.Region)
		}
	}
	st := awscdk.NewStack(scope, jsii.String(cfg.StackName), props)
	s := &Stack{Stack: st}
	s.Data = NewData(st, "Data", DataProps{
		TableName: cfg.TableName, BucketName: cfg.ArtifactBucketName, ObjectLockDays: cfg.ObjectLockDays,
	})
	s.Signing = NewSigning(st, "Signing", SigningProps{})
	env := map[string]string{}
	if cfg.AWSEndpoint != "" {
		env[config.EnvAWSEndpoint] = cfg.AWSEndpoint
	}
	s.API, err = NewAPI(st, "Api", APIProps{
		Name: cfg.StackName, Routes: api.Routes(), Access: access, Data: s.Data, SigningKey: s.Signing.Key,
		Arch: cfg.Arch, DistDir: cfg.DistDir, Env: env, LogRetention: logDays,
	})
	if err != nil {
		return nil, err
	}

	output := func(id string, v *string) {
		awscdk.NewCfnOutput(st, jsii.String(id), &awscdk.CfnOutputProps{Value: v})
	}
	output(OutAPIID, s.API.HTTPAPI.ApiId())
	output(OutAPIEndpoint, s.API.HTTPAPI.ApiEndpoint())
	output(OutTableName, s.Data.Table.TableName())
	output(OutBucketName, s.Data.Bucket.BucketName())
	output(OutSigningKeyArn, s.Signing.Key.KeyArn())
	output(OutArtifactKeyArn, s.Data.Key.KeyArn())
	if cfg.SenderIdentity != "" {
		output(OutSenderIdentity, jsii.String(cfg.SenderIdentity))
	}
	return s, nil
}
