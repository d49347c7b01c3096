// Command post-legal-hold is the Lambda function serving route "post-legal-hold" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("post-legal-hold") }
