package agentstack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/policydoc"
)

// What a job on the agents can do with the instance role, whatever the
// role's own policies grant: the boundary caps it. Each row is one call a
// job (or a rogue agent it started) would make.
func TestTheBoundaryCapsWhatAnyJobCanDo(t *testing.T) {
	const (
		own   = "arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod/buildkite-agent-token"
		other = "arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod/buildkite-deploy-agent-token"
	)
	doc, err := BoundaryDocument([]string{other}).JSON()
	require.NoError(t, err)
	tests := []struct {
		name, action, resource string
		want                   bool
	}{
		{"read its own cluster's token, as the template's agent does", "ssm:GetParameter", own, true},
		{"read the secrets bucket", "s3:GetObject", "arn:aws:s3:::buildkite-managedsecrets-mtrlz/env", true},
		{"end its own instance (BuildkiteTerminateInstanceAfterJob)", "autoscaling:TerminateInstanceInAutoScalingGroup", "*", true},
		{"verify a job's signature", "kms:Verify", "arn:aws:kms:us-east-1:123456789012:key/k", true},
		{"read the other cluster's token", "ssm:GetParameter", other, false},
		{"read it in a batch", "ssm:GetParameters", other, false},
		{"read it through its path", "ssm:GetParametersByPath", "arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod", false},
		{"sign a pipeline", "kms:Sign", "arn:aws:kms:us-east-1:123456789012:key/k", false},
		{"give its own role an administrator policy", "iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/buildkite-Role", false},
		{"write its own role's inline policy", "iam:PutRolePolicy", "arn:aws:iam::123456789012:role/buildkite-Role", false},
		{"create a role", "iam:CreateRole", "arn:aws:iam::123456789012:role/mallory", false},
		{"pass a role to a new instance", "iam:PassRole", "arn:aws:iam::123456789012:role/ci-infra-prod-deploy", false},
		{"remove its own boundary", "iam:DeleteRolePermissionsBoundary", "arn:aws:iam::123456789012:role/buildkite-Role", false},
		{"rewrite the boundary", "iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/ci-infra-prod-agent-boundary", false},
		// Issue 28: every stack ships its logs to the same /buildkite/* groups.
		{"ship its own logs", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/buildkite/buildkite-agent:*", true},
		{"cut the deploy agents' logs to a day", "logs:PutRetentionPolicy", "arn:aws:logs:us-east-1:123456789012:log-group:/buildkite/buildkite-agent", false},
		{"delete a log group", "logs:DeleteLogGroup", "arn:aws:logs:us-east-1:123456789012:log-group:/buildkite/elastic-stack", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policydoc.Permits(doc, tt.action, tt.resource, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestABoundaryMustDenyATokenAndHaveAName(t *testing.T) {
	err := BoundaryArgs{Name: "a b"}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DeniedParameterARNs")
	assert.Contains(t, err.Error(), "policy name")
}
