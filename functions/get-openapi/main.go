// Command get-openapi is the Lambda function serving route "get-openapi" of the route table: the
// OpenAPI document embedded at build time. It links no domain and no JSON Schema compiler,
// which keeps its cold start light.
package main

import (
	"github.com/cavra-enterprise/aispm-reports/internal/api/openapiapi"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awscore"
)

func main() { awscore.StartRoute("get-openapi", openapiapi.FromPorts) }
