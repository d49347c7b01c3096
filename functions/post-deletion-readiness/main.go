// Command post-deletion-readiness is the Lambda function serving route "post-deletion-readiness" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("post-deletion-readiness") }
