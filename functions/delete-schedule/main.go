// Command delete-schedule is the Lambda function serving route "delete-schedule" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("delete-schedule") }
