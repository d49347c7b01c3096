// Command get-schedule-runs is the Lambda function serving route "get-schedule-runs" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("get-schedule-runs") }
