// Command put-settings is the Lambda function serving route "put-settings" of the route table. It starts on
// the state stores alone and links only its own domain, which keeps its cold start light.
package main

import (
	"github.com/cavra-enterprise/aispm-reports/internal/api/settingsapi"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awscore"
)

func main() { awscore.StartRoute("put-settings", settingsapi.FromPorts) }
