// Command stackcheck reads a deployed stack back and fails when a setting that matters
// (Object Lock and default retention, versioning, public access block, KMS encryption,
// TLS-only policy, table stream view type, PITR, deletion protection, TTL, GSIs, routes,
// authorizer, function runtime and architecture, the stream mapping, the schedules, the
// approval gate's activity and state machine definition) differs
// from the synthesized template.
//
//	stackcheck -assembly cdk.out -stack AispmReportsEmulator -outputs ../.cache/emulator-stack.json \
//	  -endpoint http://127.0.0.1:4566 [-emulator-workarounds]
//
// -emulator-workarounds first restores, one named step each, the settings the emulator's
// CloudFormation is known to drop (localstack/README.md): Object Lock default retention,
// bucket KMS encryption, table PITR and TTL. The check then runs on the result.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cavra-enterprise/aispm-reports/infra/stackcheck"
)

func main() {
	assembly := flag.String("assembly", "cdk.out", "cloud assembly directory holding <stack>.template.json")
	stack := flag.String("stack", "AispmReportsEmulator", "stack name")
	outputs := flag.String("outputs", "", "cdk deploy --outputs-file file")
	endpoint := flag.String("endpoint", "", "emulator endpoint; empty for AWS")
	region := flag.String("region", "us-east-1", "region")
	verbose := flag.Bool("v", false, "list every setting that matches, not only the count")
	restore := flag.Bool("emulator-workarounds", false, "restore the settings the emulator's CloudFormation drops (localstack/README.md) before checking")
	flag.Parse()
	if err := run(*assembly, *stack, *outputs, *endpoint, *region, *restore, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "stackcheck:", err)
		os.Exit(1)
	}
}

func run(assembly, stack, outputsFile, endpoint, region string, restore, verbose bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := stackcheck.ReadOutputs(outputsFile, stack)
	if err != nil {
		return err
	}
	want, err := stackcheck.ExpectFromTemplate(filepath.Join(assembly, stack+".template.json"), out)
	if err != nil {
		return err
	}
	c, err := stackcheck.NewClients(ctx, region, endpoint)
	if err != nil {
		return err
	}
	if restore {
		applied, err := stackcheck.ApplyEmulatorWorkarounds(ctx, c, want)
		for _, a := range applied {
			fmt.Println("workaround applied (the emulator dropped it):", a)
		}
		if err != nil {
			return err
		}
	}
	rep := stackcheck.Check(ctx, c, want)
	if verbose {
		for _, ok := range rep.OK {
			fmt.Println("ok  ", ok)
		}
	}
	fmt.Printf("%d settings read back from %s match its template (-v lists them)\n", len(rep.OK), stack)
	for _, p := range rep.Problems {
		fmt.Println("FAIL", p)
	}
	return rep.Err()
}
