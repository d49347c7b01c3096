// Command post-ingest is the Lambda function serving route "post-ingest" of the route table. It starts on
// the state stores alone and links only its own domain, which keeps its cold start light.
package main

import (
	"github.com/cavra-enterprise/aispm-reports/internal/api/ingestapi"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awscore"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awsobjects"
)

func main() { awscore.StartRoute("post-ingest", ingestapi.FromPorts, awsobjects.Open) }
