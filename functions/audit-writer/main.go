// Command audit-writer is the DynamoDB stream consumer that appends evidence to the audit log.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartAuditWriter() }
