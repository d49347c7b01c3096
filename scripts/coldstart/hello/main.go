// Command hello is the baseline of the cold-start measurement (scripts/measure-lambdas.sh):
// the smallest aws-lambda-go function, built exactly like the product's functions.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
