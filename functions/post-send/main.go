// Command post-send is the Lambda function serving route "post-send" of the route table.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartRoute("post-send") }
