package agentstack

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestPolicyGrantsReadOfTheBootstrapObjectOnly(t *testing.T) {
	const object = "arn:aws:s3:::buildkite-config-x/bootstrap.sh"
	var arn pulumi.StringOutput
	p := plantest.Run(t, func(ctx *pulumi.Context) (pulumi.Map, error) {
		pol, err := NewPolicy(ctx, "agent-policy", PolicyArgs{BootstrapObjectARN: pulumi.String(object)})
		if err != nil {
			return nil, err
		}
		arn = pol.Arn
		return pulumi.Map{"arn": arn}, nil
	}, nil)

	res, err := p.Get("aws:iam/policy:Policy", "agent-policy-policy")
	require.NoError(t, err)
	assert.Equal(t, DefaultPolicyName, res.Input("name"))
	var doc struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(res.Input("policy").(string)), &doc))
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, "Allow", doc.Statement[0].Effect)
	assert.Equal(t, []string{"s3:GetObject"}, doc.Statement[0].Action)
	assert.Equal(t, []string{object}, doc.Statement[0].Resource)
	// The ARN the stacks receive is the resource's, not a typed string.
	assert.Equal(t, "arn:aws:iam::123456789012:policy/buildkite-agent", p.Outputs["arn"].Value)
}

func TestValidatePolicyName(t *testing.T) {
	for name, ok := range map[string]bool{"buildkite-agent": true, "a": true, "has space": false, "": false, "x/y": false} {
		assert.Equal(t, ok, ValidatePolicyName(name) == nil, name)
	}
}
