// Command get-schedules is the Lambda function serving route "get-schedules" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("get-schedules") }
