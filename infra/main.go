// Command infra is the CDK app of the AISPM Report Center. `cdk synth` / `cdk deploy` run it
// (cdk.json: "go run ."); context selects the target:
//
//	-c target=aws      (default) arm64, for real AWS; add -c account=... -c region=... -c senderIdentity=...
//	-c target=emulator x86_64 bootstraps for MiniStack/LocalStack on this host, -c awsEndpoint=http://127.0.0.1:4566
//
// Other keys: stackName, arch, tableName, artifactBucketName, objectLockDays, logRetentionDays, distDir.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := ConfigFromContext(func(key string) (string, bool) {
		v := app.Node().TryGetContext(jsii.String(key))
		if v == nil {
			return "", false
		}
		return fmt.Sprint(v), true
	})
	if err == nil {
		_, err = NewStack(app, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}
