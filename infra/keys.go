package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SigningProps configures the signing key.
type SigningProps struct {
	Description string
}

// Signing is the asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs report
// manifests and audit checkpoints; auditors verify offline with its public key.
type Signing struct {
	constructs.Construct
	Key awskms.Key
}

// NewSigning creates the signing key. It is RETAINed: deleting it would make every past
// signature unverifiable against KMS.
func NewSigning(scope constructs.Construct, id string, props SigningProps) *Signing {
	c := constructs.NewConstruct(scope, jsii.String(id))
	desc := props.Description
	if desc == "" {
		desc = "Signs AISPM report manifests and audit checkpoints"
	}
	k := awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Description:   jsii.String(desc),
		KeySpec:       awskms.KeySpec_ECC_NIST_P256,
		KeyUsage:      awskms.KeyUsage_SIGN_VERIFY,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		Policy:        accountKeyPolicy(usageSigning),
	})
	pin(k, "SigningKey")
	return &Signing{Construct: c, Key: k}
}

// Key actions the account may delegate to IAM principals through identity policies (which
// the functions' grant* calls write). Listing them instead of the usual "kms:*" keeps every
// Allow statement in the template free of wildcard actions.
var (
	keyAdmin = []string{
		"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
		"kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
		"kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags",
		"kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
		"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
	}
	usageSymmetric = []string{
		"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
		"kms:ReEncryptFrom", "kms:ReEncryptTo",
	}
	usageSigning = []string{"kms:GetPublicKey", "kms:Sign", "kms:Verify"}
)

// accountKeyPolicy gives the owning account the admin actions and the key's usage actions,
// so IAM policies in the account (and nothing else) decide who may use the key.
func accountKeyPolicy(usage []string) awsiam.PolicyDocument {
	actions := append(append([]string{}, keyAdmin...), usage...)
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AccountAdministersAndDelegatesToIAM"),
				Effect:     awsiam.Effect_ALLOW,
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings(actions...),
				Resources:  jsii.Strings("*"),
			}),
		},
	})
}
