// Command post-schedule-approve is the Lambda function serving route "post-schedule-approve" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("post-schedule-approve") }
