package bucket

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"buildkite-config-mtrlz", ""},
		{"downloads.mtrlz.dev", ""},
		{"ab", "3 to 63"},
		{strings.Repeat("a", 64), "3 to 63"},
		{"Buildkite-Config", "lowercase"},
		{"-leading", "start and end"},
		{"trailing-", "start and end"},
		{"under_score", "lowercase"},
		{"two..dots", "dot next to"},
		{"dot.-hyphen", "dot next to"},
		{"192.168.1.1", "IP address"},
		{"xn--bucket", "reserves"},
		{"bucket-s3alias", "reserves"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.name)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// statements decodes the policy of a bucket into its statements by Sid.
func statements(t *testing.T, policy string) map[string]map[string]any {
	t.Helper()
	var doc struct{ Statement []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(policy), &doc))
	bySid := map[string]map[string]any{}
	for _, s := range doc.Statement {
		bySid[s["Sid"].(string)] = s
	}
	return bySid
}

const distribution = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"

func TestPolicy(t *testing.T) {
	const arn = "arn:aws:s3:::b"
	tests := []struct {
		name     string
		reader   string
		logsFrom []string
		wantSids []string
	}{
		{"private", "", nil, []string{"DenyInsecureTransport"}},
		{"read by a distribution", distribution, nil, []string{"DenyInsecureTransport", "CloudFrontReadsObjects"}},
		{"log target", "", []string{"src"}, []string{"DenyInsecureTransport", "AcceptServerAccessLogs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, err := Policy(arn, tt.reader, tt.logsFrom).JSON()
			require.NoError(t, err)
			got := statements(t, js)
			assert.Len(t, got, len(tt.wantSids))
			for _, sid := range tt.wantSids {
				assert.Contains(t, got, sid)
			}
			deny := got["DenyInsecureTransport"]
			assert.Equal(t, "Deny", deny["Effect"])
			assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, deny["Condition"])
			assert.ElementsMatch(t, []any{arn, arn + "/*"}, deny["Resource"])
			if cf, ok := got["CloudFrontReadsObjects"]; ok {
				// That one distribution may read objects; nobody may list
				// or write, and nobody else may read.
				assert.Equal(t, map[string]any{"Service": "cloudfront.amazonaws.com"}, cf["Principal"])
				assert.Equal(t, []any{"s3:GetObject"}, cf["Action"])
				assert.Equal(t, []any{arn + "/*"}, cf["Resource"])
				assert.Equal(t, map[string]any{"StringEquals": map[string]any{"AWS:SourceArn": distribution}}, cf["Condition"])
			}
			if logs, ok := got["AcceptServerAccessLogs"]; ok {
				assert.Equal(t, map[string]any{"Service": "logging.s3.amazonaws.com"}, logs["Principal"])
				assert.Equal(t, []any{"s3:PutObject"}, logs["Action"])
				assert.Equal(t, map[string]any{"ArnLike": map[string]any{"aws:SourceArn": []any{"arn:aws:s3:::src"}}}, logs["Condition"])
			}
		})
	}
}

func TestBucketSettings(t *testing.T) {
	tests := []struct {
		name          string
		args          Args
		wantPublic    bool
		wantVersioned bool
		wantLogging   bool
		wantRules     int
	}{
		{"private versioned", Args{Name: "private-bucket", Versioned: true, Protect: true}, false, true, false, 1},
		{"downloads behind CloudFront", Args{Name: "downloads.example.com", ReaderDistributionARN: pulumi.String(distribution), Versioned: true, NoncurrentVersionDays: 30, Protect: true}, true, true, false, 2},
		{"logged", Args{Name: "logged-bucket", AccessLogs: &AccessLogs{Bucket: pulumi.String("log-bucket"), Prefix: "logged/"}}, false, false, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
				_, err := New(ctx, "b", tt.args)
				return err
			}), nil)

			comp, err := p.Get(TypeToken, "b")
			require.NoError(t, err)
			bucket, err := p.Get("aws:s3/bucketV2:BucketV2", "b-bucket")
			require.NoError(t, err)
			assert.Equal(t, tt.args.Name, bucket.Input("bucket"))
			assert.Equal(t, tt.args.Protect, bucket.Protect, "buckets that hold data are protected")
			assert.Equal(t, false, bucket.Input("forceDestroy"))

			// Every child is parented to the component and named b-<role>.
			for _, r := range p.Resources {
				if r.Custom {
					assert.Equal(t, comp.URN, r.Parent, r.Name)
					assert.True(t, strings.HasPrefix(r.Name, "b-"), r.Name)
				}
			}

			block, err := p.Get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "b-public-access-block")
			require.NoError(t, err)
			assert.Equal(t, true, block.Input("blockPublicAcls"))
			assert.Equal(t, true, block.Input("ignorePublicAcls"))
			assert.Equal(t, true, block.Input("blockPublicPolicy"), "no bucket is public")
			assert.Equal(t, true, block.Input("restrictPublicBuckets"))

			own, err := p.Get("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "b-ownership")
			require.NoError(t, err)
			assert.Equal(t, "BucketOwnerEnforced", own.Input("rule.objectOwnership"), "ACLs disabled")

			enc, err := p.Get("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "b-encryption")
			require.NoError(t, err)
			rules := enc.Input("rules").([]any)
			assert.Equal(t, "AES256", rules[0].(map[string]any)["applyServerSideEncryptionByDefault"].(map[string]any)["sseAlgorithm"])

			pol, err := p.Get("aws:s3/bucketPolicy:BucketPolicy", "b-policy")
			require.NoError(t, err)
			sids := statements(t, pol.Input("policy").(string))
			assert.Contains(t, sids, "DenyInsecureTransport")
			_, read := sids["CloudFrontReadsObjects"]
			assert.Equal(t, tt.wantPublic, read, "only a distribution's bucket lets it read")
			assert.Contains(t, pol.Dependencies, block.URN, "the policy waits for the access block")

			assert.Len(t, p.Find("aws:s3/bucketVersioningV2:BucketVersioningV2", ""), boolToInt(tt.wantVersioned))
			assert.Len(t, p.Find("aws:s3/bucketLoggingV2:BucketLoggingV2", ""), boolToInt(tt.wantLogging))
			life, err := p.Get("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "b-lifecycle")
			require.NoError(t, err)
			assert.Len(t, life.Input("rules"), tt.wantRules)
		})
	}
}

func TestObjectsAreUploadedAndSecretsStaySecret(t *testing.T) {
	var urls map[string]pulumi.StringOutput
	p := plantest.Run(t, func(ctx *pulumi.Context) (pulumi.Map, error) {
		b, err := New(ctx, "b", Args{Name: "objects-bucket", Objects: []Object{
			{Key: "bootstrap.sh", Content: pulumi.String("#!/bin/sh\n"), ContentType: "text/x-shellscript"},
			{Key: "private_ssh_key", Content: pulumi.ToSecret(pulumi.String("not-a-real-key")).(pulumi.StringOutput)},
		}})
		if err != nil {
			return nil, err
		}
		urls = b.ObjectURLs
		return pulumi.Map{"url": b.ObjectURLs["bootstrap.sh"]}, nil
	}, nil)
	require.Len(t, urls, 2)
	assert.Equal(t, "s3://objects-bucket/bootstrap.sh", p.Outputs["url"].Value)

	script, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "b-bootstrap.sh")
	require.NoError(t, err)
	assert.Equal(t, "text/x-shellscript", script.Input("contentType"))
	assert.False(t, script.IsSecret("content"))

	key, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "b-private_ssh_key")
	require.NoError(t, err)
	assert.True(t, key.IsSecret("content"), "a secret object body stays secret in state")
	assert.Equal(t, "[secret]", plan.Plain(key.Inputs["content"], true))
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	tests := []struct {
		name    string
		args    Args
		wantErr string
	}{
		{"bad name", Args{Name: "Bad_Name"}, "lowercase"},
		{"noncurrent without versioning", Args{Name: "ok-name", NoncurrentVersionDays: 3}, "needs Versioned"},
		{"negative days", Args{Name: "ok-name", Versioned: true, NoncurrentVersionDays: -1}, ">= 0"},
		{"duplicate object", Args{Name: "ok-name", Objects: []Object{{Key: "a", Content: pulumi.String("")}, {Key: "a", Content: pulumi.String("")}}}, "twice"},
		{"object without content", Args{Name: "ok-name", Objects: []Object{{Key: "a"}}}, "no Content"},
		{"logs without bucket", Args{Name: "ok-name", AccessLogs: &AccessLogs{}}, "AccessLogs.Bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plantest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "b", tt.args)
				return err
			}, tt.wantErr)
		})
	}
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
