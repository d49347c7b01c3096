// Command get-evidence-proof is the Lambda function serving route "get-evidence-proof" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("get-evidence-proof") }
