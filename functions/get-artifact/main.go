// Command get-artifact is the Lambda function serving route "get-artifact" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("get-artifact") }
