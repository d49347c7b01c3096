package config

import (
	"strings"
	"testing"
)

func lookup(env map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoadAWSReadsSigningAndScheduleTargets(t *testing.T) {
	base := map[string]string{EnvTable: "t", EnvArtifactBucket: "b"}
	c, err := LoadAWS(lookup(base))
	if err != nil || c.SigningKeyID != "" || c.ScheduleTargetARN != "" || c.ScheduleDeadLetterARN != "" {
		t.Fatalf("optional settings: %+v %v", c, err)
	}
	base[EnvSigningKeyID] = "alias/aispm-signing"
	base[EnvScheduleTargetARN] = "arn:aws:lambda:us-east-1:000000000000:function:schedule-runner"
	base[EnvScheduleRoleARN] = "arn:aws:iam::000000000000:role/scheduler-invoke"
	c, err = LoadAWS(lookup(base))
	if err != nil || c.SigningKeyID != "alias/aispm-signing" || c.ScheduleTargetARN == "" || c.ScheduleRoleARN == "" {
		t.Fatalf("configured: %+v %v", c, err)
	}
	delete(base, EnvScheduleRoleARN)
	if _, err := LoadAWS(lookup(base)); err == nil || !strings.Contains(err.Error(), EnvScheduleRoleARN) {
		t.Fatalf("target without role: %v", err)
	}
}

func TestLoadAWSScheduleDeadLetterGoesWithTheTarget(t *testing.T) {
	const dlq = "arn:aws:sqs:us-east-1:000000000000:schedule-dead-letters"
	base := map[string]string{
		EnvTable: "t", EnvArtifactBucket: "b",
		EnvScheduleTargetARN: "arn:aws:lambda:us-east-1:000000000000:function:schedule-runner",
		EnvScheduleRoleARN:   "arn:aws:iam::000000000000:role/scheduler-invoke",
	}
	c, err := LoadAWS(lookup(base))
	if err != nil || c.ScheduleDeadLetterARN != "" {
		t.Fatalf("target without a dead-letter queue: %+v %v", c, err)
	}
	base[EnvScheduleDeadLetterARN] = dlq
	c, err = LoadAWS(lookup(base))
	if err != nil || c.ScheduleDeadLetterARN != dlq {
		t.Fatalf("with a dead-letter queue: %+v %v", c, err)
	}
	delete(base, EnvScheduleTargetARN)
	delete(base, EnvScheduleRoleARN)
	if _, err := LoadAWS(lookup(base)); err == nil || !strings.Contains(err.Error(), EnvScheduleDeadLetterARN) {
		t.Fatalf("dead-letter queue without a target: %v", err)
	}
}

func TestLoadAWSSESEndpointIsForAnEmulatorOnly(t *testing.T) {
	base := map[string]string{EnvTable: "t", EnvArtifactBucket: "b", EnvSESEnabled: "true", EnvSESEndpoint: "http://127.0.0.1:5056"}
	if _, err := LoadAWS(lookup(base)); err == nil || !strings.Contains(err.Error(), EnvSESEndpoint) {
		t.Fatalf("SES endpoint without an emulator endpoint: %v", err)
	}
	base[EnvAWSEndpoint] = "http://127.0.0.1:4566"
	c, err := LoadAWS(lookup(base))
	if err != nil || !c.SESEnabled || c.SESEndpoint != "http://127.0.0.1:5056" {
		t.Fatalf("emulator SES endpoint: %+v %v", c, err)
	}
}
