package bucket

import (
	"mtrlz.dev/ci-infra/components/policydoc"
)

// Policy is the one bucket-policy builder of the program. Every bucket
// denies requests that do not use TLS (AWS Config rule
// s3-bucket-ssl-requests-only). A bucket served by CloudFront lets that one
// distribution (readerDistributionARN) call s3:GetObject through its origin
// access control, and nothing else. A log bucket lets S3's logging service
// write access logs for the named source buckets only.
func Policy(bucketARN, readerDistributionARN string, acceptLogsFrom []string) policydoc.Document {
	statements := []policydoc.Statement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: "*",
		Action:    []string{"s3:*"},
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	}}
	if readerDistributionARN != "" {
		statements = append(statements, policydoc.Statement{
			Sid:       "CloudFrontReadsObjects",
			Effect:    "Allow",
			Principal: map[string]any{"Service": "cloudfront.amazonaws.com"},
			Action:    []string{"s3:GetObject"},
			Resource:  []string{bucketARN + "/*"},
			Condition: map[string]map[string]any{"StringEquals": {"AWS:SourceArn": readerDistributionARN}},
		})
	}
	if len(acceptLogsFrom) > 0 {
		sources := make([]string, len(acceptLogsFrom))
		for i, name := range acceptLogsFrom {
			sources[i] = ARN(name)
		}
		statements = append(statements, policydoc.Statement{
			Sid:       "AcceptServerAccessLogs",
			Effect:    "Allow",
			Principal: map[string]any{"Service": "logging.s3.amazonaws.com"},
			Action:    []string{"s3:PutObject"},
			Resource:  []string{bucketARN + "/*"},
			Condition: map[string]map[string]any{"ArnLike": {"aws:SourceArn": sources}},
		})
	}
	return policydoc.New(statements...)
}

// ARN derives a bucket's ARN from its name. Bucket ARNs carry neither region
// nor account, so a name alone determines it.
func ARN(name string) string {
	return "arn:aws:s3:::" + name
}
