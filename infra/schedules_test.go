package main

import (
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// A tenant schedule's firing that never reached the schedule-runner is kept in an
// encrypted, TLS-only, retained queue that only the scheduler's role may send to, raises an
// alarm on the first message, and every function that creates schedules names the queue.
func TestScheduleDeadLetters(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, tp assertions.Template) {
		queue := queueByPrefix(t, target, "SchedulesScheduleDeadLetters")
		checkKeptQueue(t, target, queue)

		assert(t, "alarm on the first dead letter", func() {
			tp.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj{
				"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
				"Dimensions": []any{obj{"Name": "QueueName", "Value": obj{"Fn::GetAtt": []any{queue, "QueueName"}}}},
				"Statistic":  "Maximum", "Period": 300, "EvaluationPeriods": 1,
				"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"TreatMissingData": "notBreaching",
			})
		})

		queueArn := obj{"Fn::GetAtt": []any{queue, "Arn"}}
		role := roleByPrefix(t, target, "SchedulesSchedulerRole")
		if senders := queueSenders(t, target)[fmt.Sprint(queueArn)]; fmt.Sprint(senders) != fmt.Sprint([]string{role}) {
			t.Errorf("roles that may send to the schedule dead letters: %v, want only %s", senders, role)
		}

		fns := functionsByName(t, target)
		named := 0
		for name, id := range fns {
			if !accessOf(t, name).Schedules {
				continue
			}
			named++
			if got := functionEnv(target, id)[config.EnvScheduleDeadLetterARN]; fmt.Sprint(got) != fmt.Sprint(queueArn) {
				t.Errorf("%s: %s %v, want the queue %s", name, config.EnvScheduleDeadLetterARN, got, queue)
			}
		}
		if named == 0 {
			t.Error("no function creates schedules; the check is broken")
		}

		out := templates[target]["Outputs"].(obj)[OutScheduleDeadLetterQueueURL]
		if fmt.Sprint(out) != fmt.Sprint(obj{"Value": obj{"Ref": queue}}) {
			t.Errorf("output %s = %v, want the queue's URL (Ref %s)", OutScheduleDeadLetterQueueURL, out, queue)
		}
	})
}
