package stackcheck

import "testing"

func TestFunctionARN(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:000000000000:function:get-catalog"
	for uri, want := range map[string]string{
		arn: arn,
		"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + arn + "/invocations": arn,
		"http://example.invalid/": "",
	} {
		if got := functionARN(uri); got != want {
			t.Errorf("functionARN(%q) = %q, want %q", uri, got, want)
		}
	}
}
