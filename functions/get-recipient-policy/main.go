// Command get-recipient-policy is the Lambda function serving route "get-recipient-policy" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("get-recipient-policy") }
