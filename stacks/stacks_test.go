package stacks

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

func prodPlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, err := plan.Run(Build, plantest.StackOptions(t, "prod"))
	require.NoError(t, err)
	return p
}

// prodWithSecretsPlan is prod in the layout where the stack holds its own
// secrets (separateSecrets false): the tokens and secret objects are
// declared by the same code (SecretsNeeded) as in the secrets stack, so
// this is where the tests read what the agents get.
func prodWithSecretsPlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, err := plan.Run(Build, plantest.SecretsInStackOptions(t, "prod"))
	require.NoError(t, err)
	return p
}

func TestProdAgentStacks(t *testing.T) {
	p := prodPlan(t)
	tests := []struct {
		resource string
		want     map[string]string
	}{
		{"agents-stack", map[string]string{
			// Spot, retried by pipeline.yml's rules; booted while the build
			// they wait on runs, and kept longer than a build takes
			// (cmd/fleet -compare chose these: docs/cost-and-capacity.md).
			"BuildkiteQueue": "default", "MinSize": "0", "MaxSize": "40", "InstanceTypes": "c5.2xlarge",
			"ScaleInIdlePeriod": "900", "OnDemandPercentage": "0", "ScaleOutForWaitingJobs": "true",
			"ScaleOutCooldownPeriod": "0", "InstanceBuffer": "8",
		}},
		{"builders-stack", map[string]string{
			// The seed's one always-on builder: fixed, so no scaler exists
			// to pick it, and it never idles out.
			"BuildkiteQueue": "builders", "MinSize": "1", "MaxSize": "1", "InstanceTypes": "c5.2xlarge",
			"ScaleInIdlePeriod": "0", "DisableScaleIn": "true", "InstanceScaleInProtection": "true",
		}},
		{"builders-burst-stack", map[string]string{
			// The second builder: same queue, leaves when idle, never by a
			// scale-in that could hit a running job.
			"BuildkiteQueue": "builders", "MinSize": "0", "MaxSize": "4", "InstanceTypes": "c5.2xlarge", "InstanceBuffer": "2",
			"ScaleInIdlePeriod": "1800", "DisableScaleIn": "true", "InstanceScaleInProtection": "true",
			"ScalerEnableExperimentalElasticCIMode": "false",
			// Spot, and one kept up in working hours (scheduled scaling).
			"OnDemandPercentage": "0", "ScaleOutCooldownPeriod": "0", "EnableScheduledScaling": "true",
			"ScaleUpSchedule": "0 14 * * MON-FRI", "ScaleDownSchedule": "0 23 * * MON-FRI",
			"ScaleUpMinSize": "1", "ScaleDownMinSize": "0", "ScheduleTimezone": "UTC",
		}},
		{"deploy-agents-stack", map[string]string{
			"BuildkiteQueue": "deploy", "MinSize": "0", "MaxSize": "1", "InstanceTypes": "c5.xlarge",
			// They verify every job's signature and block, and cannot sign:
			// an operator signs their steps (scripts/sign-steps).
			"PipelineSigningKMSKeySpec": "ECC_NIST_P256", "PipelineSigningKMSAccess": "verify",
			"PipelineSigningVerificationFailureBehavior": "block",
			// Each instance ends after its job: nothing carries over.
			"BuildkiteTerminateInstanceAfterJob": "true",
			// The deploy cluster's token, which no other stack reads.
			"BuildkiteAgentTokenParameterStorePath": "/ci-infra/prod/buildkite-deploy-agent-token",
		}},
	}
	contract, err := agentstack.ContractFor("v6.71.1")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			stack, err := p.Get("aws:cloudformation/stack:Stack", tt.resource)
			require.NoError(t, err)
			params := stack.Input("parameters").(map[string]any)
			common := map[string]string{
				"EnableDockerUserNamespaceRemap":        "false",
				"IMDSv2Tokens":                          "required",
				"RootVolumeEncrypted":                   "true",
				"SecretsBucketEncryption":               "true",
				"SecretsBucket":                         "buildkite-managedsecrets-mtrlz",
				"BootstrapScriptUrl":                    "s3://buildkite-config-mtrlz/bootstrap.sh",
				"ManagedPolicyARNs":                     "arn:aws:iam::123456789012:policy/buildkite-agent",
				"BuildkiteAgentTokenParameterStorePath": "/ci-infra/prod/buildkite-agent-token",
			}
			for k, v := range maps.All(tt.want) {
				common[k] = v
			}
			for k, v := range common {
				assert.Equal(t, v, params[k], k)
			}
			assert.NotContains(t, params, "BuildkiteAgentToken")
			assert.NotContains(t, params, "KeyName", "SSH stays closed unless agentKeyName is set")
			assert.Len(t, strings.Split(params["Subnets"].(string), ","), 2)
			assert.True(t, strings.HasPrefix(params["VpcId"].(string), "vpc-"))
			for k, v := range params {
				assert.NoError(t, contract.Check(k, v.(string)), "every parameter fits the pinned template")
			}
		})
	}
	names := []any{}
	for _, s := range p.Find("aws:cloudformation/stack:Stack", "") {
		names = append(names, s.Input("name"))
	}
	assert.ElementsMatch(t, []any{"buildkite", "buildkite-builders", "buildkite-builders-burst", "buildkite-deploy"}, names)
}

func TestProdNamesAndOutputs(t *testing.T) {
	p := prodPlan(t)
	buckets := map[string]bool{}
	for _, b := range p.Find("aws:s3/bucketV2:BucketV2", "") {
		buckets[b.Input("bucket").(string)] = b.Protect
	}
	assert.Equal(t, map[string]bool{
		"buildkite-config-mtrlz":              true,
		"buildkite-managedsecrets-mtrlz":      true,
		"buildkite-managedsecrets-logs-mtrlz": true,
		"downloads.mtrlz.dev":                 true,
	}, buckets, "the seed's buckets, all protected")

	z, err := p.Get("aws:route53/zone:Zone", "internal-zone-zone")
	require.NoError(t, err)
	assert.Equal(t, "internal.mtrlz.dev", z.Input("name"))
	vpc, err := p.Get("aws:ec2/vpc:Vpc", "network-vpc")
	require.NoError(t, err)
	assert.Equal(t, p.Outputs["vpcId"].Value, z.Input("vpcs").([]any)[0].(map[string]any)["vpcId"], "the zone belongs to the agents' VPC")
	_ = vpc

	for _, key := range []string{"agentsStackName", "buildersStackName", "configBucketName", "secretsBucketName",
		"bootstrapScriptUrl", "agentPolicyArn", "internalZoneId", "downloadsUrl"} {
		assert.Contains(t, p.Outputs, key)
	}
	// Until the certificate for downloads.mtrlz.dev is issued (mtrlz.dev's
	// zone is not managed here), the distribution's own name serves.
	assert.Regexp(t, `^https://d[0-9a-f]+\.cloudfront\.net/$`, p.Outputs["downloadsUrl"].Value)
	assert.Regexp(t, `^_[0-9a-f]+\.downloads\.mtrlz\.dev\. CNAME _[0-9a-f]+\.acm-validations\.aws\.$`, p.Outputs["downloadsValidationRecord"].Value)
	assert.Equal(t, "s3://buildkite-config-mtrlz/bootstrap.sh", p.Outputs["bootstrapScriptUrl"].Value)
}

func TestProdSecretsStaySecret(t *testing.T) {
	p := prodWithSecretsPlan(t)
	key, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "secrets-private_ssh_key")
	require.NoError(t, err)
	assert.True(t, key.IsSecret("content"))
	for _, name := range []string{"agent-token-parameter", "deploy-agent-token-parameter"} {
		token, err := p.Get("aws:ssm/parameter:Parameter", name)
		require.NoError(t, err)
		assert.True(t, token.IsSecret("value"), name)
		assert.True(t, token.Protect, name)
	}
	assert.ElementsMatch(t, []string{"ci-infra:agentSshPrivateKey", "ci-infra:buildkiteAgentToken", "ci-infra:buildkiteDeployAgentToken", "ci-infra:buildSafetyGithubToken",
		"ci-infra:dockerHubUser", "ci-infra:dockerHubPassword", "ci-infra:webhookSecret"}, p.Placeholders,
		"every secret stands in offline; the CLI names the missing ones a stack needs")
}

// taggable lists the AWS types of the program that take tags.
var taggable = []string{
	"aws:s3/bucketV2:BucketV2", "aws:s3/bucketObjectv2:BucketObjectv2", "aws:iam/policy:Policy",
	"aws:ssm/parameter:Parameter", "aws:route53/zone:Zone", "aws:cloudformation/stack:Stack",
	"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
	"aws:ec2/routeTable:RouteTable", "aws:ec2/vpcEndpoint:VpcEndpoint",
}

func TestProdEveryResourceIsTaggedParentedAndNamed(t *testing.T) {
	p := prodPlan(t)
	for _, r := range p.Registered() {
		if !r.Custom {
			continue
		}
		parent, ok := p.ByURN(r.Parent)
		if assert.True(t, ok && !parent.Custom, "%s is parented to a component", r.Name) {
			assert.True(t, strings.HasPrefix(r.Name, parent.Name+"-"), "%s is named <component>-<role>", r.Name)
		}
		if slices.Contains(taggable, r.Type) {
			tags, _ := r.Input("tags").(map[string]any)
			assert.Equal(t, "ci-infra", tags["project"], r.Name)
			assert.Equal(t, "prod", tags["stack"], r.Name)
			assert.Equal(t, "pulumi", tags["managed-by"], r.Name)
		}
	}
}

func TestConfigSchemaMatchesConfigStruct(t *testing.T) {
	project, err := workspace.LoadProject(filepath.Join(testenv.Root(t), "Pulumi.yaml"))
	require.NoError(t, err)
	var structKeys []string
	for _, f := range Fields() {
		if strings.Contains(f.Key, ":") {
			continue // provider config such as aws:region lives in the stack file
		}
		structKeys = append(structKeys, f.Key)
		schema, ok := project.Config[f.Key]
		if !assert.True(t, ok, "Pulumi.yaml declares %s", f.Key) {
			continue
		}
		assert.NotNil(t, schema.Type, "%s has a type", f.Key)
		assert.NotEmpty(t, schema.Description, "%s has a description", f.Key)
		if f.Secret {
			// The CLI requires a declared key without a default and refuses
			// a default for a secret one: a secret has an empty default and
			// no secret flag, and the program names it when it is needed.
			assert.False(t, schema.Secret, "%s: not `secret: true` in Pulumi.yaml", f.Key)
			assert.True(t, plan.IsOptionalSecret(schema.Description, schema.Default), "%s: default \"\" and a description that starts with %q", f.Key, plan.OptionalSecretMark)
		}
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(project.Config)), structKeys, "every key in Pulumi.yaml is read by Config")
}

// plaintextSecrets lists the secret keys that a stack file holds in plain
// text, read as the CLI reads it (so any YAML layout of `secure:` counts).
func plaintextSecrets(t *testing.T, dir, stack string) []string {
	t.Helper()
	opts, err := plan.LoadOptions(dir, stack)
	require.NoError(t, err)
	var plain []string
	for _, f := range Fields() {
		key := "ci-infra:" + f.Key
		if _, set := opts.Config[key]; f.Secret && set && !slices.Contains(opts.Secrets, key) {
			plain = append(plain, key)
		}
	}
	return plain
}

func TestStackFilesHoldNoPlaintextSecret(t *testing.T) {
	for _, stack := range []string{"prod", "dr"} {
		assert.Empty(t, plaintextSecrets(t, testenv.Root(t), stack), "Pulumi.%s.yaml: set secrets with `pulumi config set --secret`", stack)
	}
	// The check itself, on stack files written both ways.
	project, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name, file string
		plain      []string
	}{
		{"plain text", "config:\n  ci-infra:buildkiteAgentToken: not-a-token\n", []string{"ci-infra:buildkiteAgentToken"}},
		{"secure on the next line", "config:\n  ci-infra:buildkiteAgentToken:\n    secure: v1:bm90LWEtdG9rZW4=\n", nil},
		{"secure inline", "config:\n  ci-infra:agentSshPrivateKey: {secure: v1:bm90LWEta2V5}\n", nil},
		{"not a secret", "config:\n  ci-infra:bucketSuffix: mtrlz\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.check.yaml"), []byte(tc.file), 0o644))
			assert.Equal(t, tc.plain, plaintextSecrets(t, dir, "check"))
		})
	}
}

func TestProdUploadsTheReviewedBootstrapScript(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "agent", "bootstrap.sh"))
	require.NoError(t, err)
	object, err := prodPlan(t).Get("aws:s3/bucketObjectv2:BucketObjectv2", "config-bootstrap.sh")
	require.NoError(t, err)
	content := object.Input("content").(string)
	// agent/bootstrap.sh as reviewed, with the hooks of agent/hooks/ written
	// in, after the values the program writes in.
	_, body, _ := strings.Cut(string(raw), "\n")
	for _, part := range regexp.MustCompile(`\{\{\.[A-Za-z]+ -\}\}\n`).Split(body, -1) {
		assert.Contains(t, content, part, "the object agents run is agent/bootstrap.sh as reviewed")
	}
	hooks, err := filepath.Glob(filepath.Join(testenv.Root(t), "agent", "hooks", "*.sh"))
	require.NoError(t, err)
	require.Len(t, hooks, 3)
	for _, hook := range hooks {
		text, err := os.ReadFile(hook)
		require.NoError(t, err)
		assert.Contains(t, content, string(text), "with %s written in", filepath.Base(hook))
	}
	assert.Contains(t, content, "CI_INFRA_DEPLOY_QUEUE=${CI_INFRA_DEPLOY_QUEUE:-'deploy'}")
	assert.Contains(t, content, "CI_INFRA_DEPLOY_ALLOW=${CI_INFRA_DEPLOY_ALLOW:-'ci-infra-deploy main\ndeploy master\ndownloads-publish main deploy'}",
		"the deploy agents run this repository's deploy pipeline on main, the release pipeline on master, and the publish pipeline on main as the release pipeline triggers it, nothing else")
	assert.Equal(t, "bootstrap.sh", object.Input("key"))
}

// Docker Hub credentials reach safe builds only, and stay secret.
func TestProdDockerHubCredentials(t *testing.T) {
	p := prodWithSecretsPlan(t)
	user, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "secrets-environment")
	require.NoError(t, err)
	assert.Equal(t, "environment", user.Input("key"), "the second env file, eval'd after the gate")
	assert.True(t, user.IsSecret("content"))
	assert.Contains(t, user.Input("content"), "DOCKER_LOGIN_USER=")
	password, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "secrets-secret-files/DOCKER_LOGIN_PASSWORD")
	require.NoError(t, err)
	assert.Equal(t, "secret-files/DOCKER_LOGIN_PASSWORD", password.Input("key"), "exported as DOCKER_LOGIN_PASSWORD by the secrets helper")
	assert.True(t, password.IsSecret("content"))

	err = badConfig(t, func(c map[string]string, _ *[]string) { delete(c, "ci-infra:dockerHubPassword") })
	assert.ErrorContains(t, err, "ci-infra:dockerHubPassword: is needed while dockerHubLogin is true")
}

// TestTheDocsListEveryOutput keeps docs/what-it-builds.md's list of stack outputs equal
// to what prod exports: an operator reads it to find an ARN or a next step.
func TestTheDocsListEveryOutput(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "docs", "what-it-builds.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(raw), "Stack outputs: ")
	require.True(t, ok, "docs/what-it-builds.md has a paragraph starting \"Stack outputs: \"")
	paragraph, _, _ := strings.Cut(rest, "(a stacks test")
	var listed []string
	for _, name := range regexp.MustCompile("`([A-Za-z]+)`").FindAllStringSubmatch(paragraph, -1) {
		listed = append(listed, name[1])
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(prodPlan(t).Outputs)), listed, "docs/what-it-builds.md's \"Stack outputs\" paragraph")
}

// The preview role reads what a refresh of the stack reads (issue 28), by
// resource type: mainStackTypes must hold every AWS type of every
// committed stack, and nothing more, or a new type's refresh would be
// refused (or a removed one's reads left granted).
func TestThePreviewRoleKnowsEveryTypeOfThePlan(t *testing.T) {
	var types []string
	for _, stack := range []string{"prod", "dr"} {
		p, err := plan.Run(Build, plantest.StackOptions(t, stack))
		require.NoError(t, err)
		for _, r := range p.Registered() {
			if strings.HasPrefix(r.Type, "aws:") && !slices.Contains(types, r.Type) {
				types = append(types, r.Type)
			}
		}
	}
	assert.ElementsMatch(t, mainStackTypes, types, "mainStackTypes lists the AWS types of the committed stacks")
}
