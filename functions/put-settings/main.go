// Command put-settings is the Lambda function serving route "put-settings" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("put-settings") }
