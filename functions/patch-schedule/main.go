// Command patch-schedule is the Lambda function serving route "patch-schedule" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("patch-schedule") }
