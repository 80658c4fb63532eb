package agentstack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestEveryContractLoadsAndItsPatternsCompile(t *testing.T) {
	require.NotEmpty(t, Versions())
	for _, v := range Versions() {
		c, err := ContractFor(v)
		require.NoError(t, err, v)
		assert.Equal(t, v, c.Version)
		assert.Equal(t, TemplateURL(v), c.TemplateURL, "the contract is of the published template the stacks use")
	}
}

func TestContractFor(t *testing.T) {
	tests := []struct {
		version string
		wantErr string
	}{
		{"v6.71.1", ""},
		{"latest", "not pinned"},
		{"main", "not pinned"},
		{"6.71.1", "not pinned"},
		{"v9.9.9", "no parameter contract"},
	}
	for _, tt := range tests {
		_, err := ContractFor(tt.version)
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.version)
		} else if assert.Error(t, err, tt.version) {
			assert.Contains(t, err.Error(), tt.wantErr)
		}
	}
}

func TestCheck(t *testing.T) {
	c, err := ContractFor("v6.71.1")
	require.NoError(t, err)
	tests := []struct {
		param, value string
		wantErr      string
	}{
		{"IMDSv2Tokens", "required", ""},
		{"IMDSv2Tokens", "off", "must be one of optional, required"},
		{"MinSize", "0", ""},
		{"MinSize", "-1", ">= 0"},
		{"MinSize", "two", "must be a number"},
		{"OnDemandPercentage", "101", "<= 100"},
		{"InstanceTypes", "c5.2xlarge,c6i.2xlarge", ""},
		{"InstanceTypes", "c5.2xlarge, c6i.2xlarge", "must match"},
		{"BuildkiteAgentTokenParameterStorePath", "/ci-infra/prod/buildkite-agent-token", ""},
		{"BuildkiteAgentTokenParameterStorePath", "no-leading-slash", "must match"},
		{"BuildkiteQueue", "", "at least 1"},
		{"InstanceType", "c5.2xlarge", "has no parameter InstanceType"},
		{"ManagedPolicyARN", "x", "has no parameter ManagedPolicyARN"},
	}
	for _, tt := range tests {
		err := c.Check(tt.param, tt.value)
		if tt.wantErr == "" {
			assert.NoError(t, err, "%s=%s", tt.param, tt.value)
		} else if assert.Error(t, err, "%s=%s", tt.param, tt.value) {
			assert.Contains(t, err.Error(), tt.wantErr)
		}
	}
}

func validArgs() Args {
	return Args{
		StackName: "buildkite", TemplateVersion: "v6.71.1", Queue: "default",
		MinSize: 0, MaxSize: 10, InstanceTypes: []string{"c5.2xlarge"}, ScaleInIdleSeconds: 300, OnDemandPercentage: 100,
		Region:             "us-east-1",
		ManagedPolicyARN:   pulumi.String("arn:aws:iam::123456789012:policy/buildkite-agent"),
		BootstrapScriptURL: pulumi.String("s3://buildkite-config-x/bootstrap.sh"),
		SecretsBucket:      pulumi.String("buildkite-managedsecrets-x"),
		AgentTokenPath:     pulumi.String("/ci-infra/test/buildkite-agent-token"),
		VpcID:              pulumi.String("vpc-1"),
		SubnetIDs:          pulumi.StringArray{pulumi.String("subnet-1"), pulumi.String("subnet-2")},

		InstanceRoleBoundaryARN: pulumi.String("arn:aws:iam::123456789012:policy/ci-infra-test-agent-boundary"),
	}
}

func TestStaticParameters(t *testing.T) {
	warm := validArgs()
	warm.MinSize, warm.MaxSize, warm.KeepWarm = 1, 1, true
	withKey := validArgs()
	withKey.KeyName = "ops"
	tests := []struct {
		name   string
		args   Args
		want   map[string]string
		absent []string
	}{
		{"scale to zero", validArgs(), map[string]string{
			"ScaleInIdlePeriod": "300", "MinSize": "0", "MaxSize": "10", "InstanceTypes": "c5.2xlarge",
			"IMDSv2Tokens": "required", "RootVolumeEncrypted": "true", "EnableDockerUserNamespaceRemap": "false",
			"SecretsBucketEncryption": "true",
			// No scale-in path may hit a running job: instances leave only
			// when idle.
			"DisableScaleIn": "true", "InstanceScaleInProtection": "true", "ScalerEnableExperimentalElasticCIMode": "false",
		}, []string{"KeyName", "InstanceCreationTimeout", "BuildkiteAgentToken"}},
		{"keep warm", warm, map[string]string{
			// A fixed baseline: it never terminates itself, and with
			// MinSize = MaxSize the template creates no scaler.
			"ScaleInIdlePeriod": "0", "DisableScaleIn": "true", "InstanceScaleInProtection": "true",
			"BuildkiteAgentEnableGracefulShutdown": "true", "MinSize": "1", "MaxSize": "1",
			"InstanceCreationTimeout": "PT15M",
		}, []string{"KeyName"}},
		{"ssh key", withKey, map[string]string{"KeyName": "ops"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.args.StaticParameters()
			for k, v := range tt.want {
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range tt.absent {
				assert.NotContains(t, got, k)
			}
		})
	}
}

func TestStackParametersFitTheContract(t *testing.T) {
	warm := validArgs()
	warm.MinSize, warm.MaxSize, warm.KeepWarm = 1, 1, true
	for name, args := range map[string]Args{"agents": validArgs(), "builders": warm} {
		t.Run(name, func(t *testing.T) {
			p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
				_, err := New(ctx, name, args)
				return err
			}), nil)
			stack, err := p.Get("aws:cloudformation/stack:Stack", name+"-stack")
			require.NoError(t, err)
			assert.Equal(t, "https://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml", stack.Input("templateUrl"))
			assert.ElementsMatch(t, []any{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"}, stack.Input("capabilities"))
			params := stack.Input("parameters").(map[string]any)
			assert.Equal(t, "subnet-1,subnet-2", params["Subnets"])
			assert.NotContains(t, params, "BuildkiteAgentToken", "the token travels through SSM only")
			c, err := ContractFor("v6.71.1")
			require.NoError(t, err)
			for k, v := range params {
				assert.NoError(t, c.Check(k, v.(string)))
			}
		})
	}
}

func TestInvalidArgs(t *testing.T) {
	mod := func(f func(*Args)) Args { a := validArgs(); f(&a); return a }
	tests := []struct {
		name    string
		args    Args
		wantErr string
	}{
		{"min above max", mod(func(a *Args) { a.MinSize, a.MaxSize = 3, 2 }), "MaxSize must be >= MinSize (3)"},
		{"negative min", mod(func(a *Args) { a.MinSize = -1 }), "MinSize must be >= 0"},
		{"unpinned", mod(func(a *Args) { a.TemplateVersion = "latest" }), "not pinned"},
		{"warm without baseline", mod(func(a *Args) { a.KeepWarm = true }), "KeepWarm needs MinSize = MaxSize >= 1"},
		{"warm with a scaler", mod(func(a *Args) { a.KeepWarm, a.MinSize, a.MaxSize = true, 1, 2 }), "put burst capacity in a stack of its own"},
		{"idle forever", mod(func(a *Args) { a.ScaleInIdleSeconds = 0 }), "ScaleInIdleSeconds"},
		{"no types", mod(func(a *Args) { a.InstanceTypes = nil }), "1 to 25 instance types"},
		{"bad stack name", mod(func(a *Args) { a.StackName = "1stack" }), "stack name"},
		{"missing policy", mod(func(a *Args) { a.ManagedPolicyARN = nil }), "ManagedPolicyARN is required"},
		{"empty queue", mod(func(a *Args) { a.Queue = "" }), "BuildkiteQueue must be at least 1"},
		{"on-demand share above 100", mod(func(a *Args) { a.OnDemandPercentage = 101 }), "OnDemandPercentage must be <= 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plantest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "s", tt.args)
				return err
			}, tt.wantErr)
		})
	}
}
