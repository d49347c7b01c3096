// Command get-tokens is the Lambda function serving route "get-tokens" of the route table. It starts on
// the state stores alone and links only its own domain, which keeps its cold start light.
package main

import (
	"github.com/cavra-enterprise/aispm-reports/internal/api/tokenapi"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awscore"
)

func main() { awscore.StartRoute("get-tokens", tokenapi.FromPorts) }
