// Command put-recipient-policy is the Lambda function serving route "put-recipient-policy" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("put-recipient-policy") }
