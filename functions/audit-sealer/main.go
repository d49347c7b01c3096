// Command audit-sealer is the scheduled function that seals audit logs whose checkpoint is due.
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartAuditSealer() }
