// Command schedule-runner is the target of every EventBridge Scheduler schedule: it hands
// each firing's payload to the domain (artifact expiry sweeps today).
package main

import "github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"

func main() { awsapp.StartScheduleRunner() }
