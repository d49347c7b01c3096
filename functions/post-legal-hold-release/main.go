// Command post-legal-hold-release is the Lambda function serving route "post-legal-hold-release" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("post-legal-hold-release") }
