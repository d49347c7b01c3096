// Command authorizer is the API Gateway Lambda authorizer: bearer token -> tenant and role.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/authorizerapp"

func main() { authorizerapp.Start() }
