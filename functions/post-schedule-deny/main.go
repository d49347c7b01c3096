// Command post-schedule-deny is the Lambda function serving route "post-schedule-deny" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("post-schedule-deny") }
