package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// TestProdPlanGolden keeps the production plan in testdata/prod.json, so
// that every infrastructure change is a readable diff in review. Refresh
// with `go test ./... -update`.
func TestProdPlanGolden(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "prod", "-json", "-dir", testenv.Root(t)}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	testenv.Golden(t, "prod.json", stdout.Bytes())

	var doc struct {
		Project   string
		Stack     string
		Resources []struct {
			URN, Type, Name, Parent string
			Protect                 bool
			Inputs                  map[string]any
		}
		Outputs  map[string]any
		Policies []struct{ Rule, Level, URN, Message string }
		Cost     struct {
			Currency    string
			Stacks      map[string]struct{ IdleMonthly, PeakMonthly float64 }
			IdleMonthly float64
			PeakMonthly float64
		}
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &doc))
	for _, v := range doc.Policies {
		assert.Equal(t, "advisory", v.Level, "prod has no mandatory violation: %s", v.Message)
	}
	assert.Equal(t, "USD", doc.Cost.Currency)
	assert.Len(t, doc.Cost.Stacks, 4, "test agents, builders, burst builders, deploy agents")
	assert.Contains(t, doc.Cost.Stacks, "buildkite")
	assert.Contains(t, doc.Cost.Stacks, "buildkite-builders")
	// One builder always on: the seed's "approximately $250 per month".
	assert.InDelta(t, 248.2, doc.Cost.IdleMonthly, 0.005)
	// Forty test agents and four burst builders on spot, the builder on
	// demand and the deploy agent, all day: the ceiling, which the fleet
	// never nears (cmd/fleet). The deploy agent costs nothing idle.
	assert.InDelta(t, 4740.62, doc.Cost.PeakMonthly, 0.005)
	assert.Equal(t, "ci-infra", doc.Project)
	assert.Equal(t, "prod", doc.Stack)
	assert.NotEmpty(t, doc.Resources)
	assert.NotEmpty(t, doc.Outputs)
	assert.NotContains(t, stdout.String(), "plan-placeholder-for", "secret placeholders are shown as [secret]")
}

func TestTextPlanShowsTreeAndPlaceholders(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "prod", "-dir", testenv.Root(t)}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	for _, want := range []string{
		// prod keeps no secret; the secrets stack that writes them is
		// planned with it, each secret a placeholder.
		"Its secrets, written by the stack of the same name of ci-infra-secrets (secrets/), which only operators and the deploy run:\nPlan of stack \"prod\" (project ci-infra-secrets)",
		"planned with placeholders: ci-infra-secrets:agentSshPrivateKey, ci-infra-secrets:buildSafetyGithubToken, ci-infra-secrets:buildkiteAgentToken, ci-infra-secrets:buildkiteDeployAgentToken, ci-infra-secrets:dockerHubPassword, ci-infra-secrets:dockerHubUser, ci-infra-secrets:webhookSecret\n",
		"\nagents  ci-infra:buildkite:AgentStack\n",
		"\n    agents-stack  aws:cloudformation/stack:Stack\n",
		"config-bucket  aws:s3/bucketV2:BucketV2  [protected]",
		"trusted-team-team  github:index/team:Team  [protected]",
		"\nOutputs:\n",
		"Policy pack ci_infra: 37 rules, 0 mandatory violations, 1 advisory\n",
		"Cost, USD per month",
	} {
		assert.True(t, strings.Contains(out, want), "the text plan lacks %q", want)
	}
}

func TestInvalidConfigExitsNonZeroNamingTheKey(t *testing.T) {
	dir := stackDir(t, "bad",
		"config:\n  aws:region: us-east-1\n  github:owner: example-org\n  ci-infra:bucketSuffix: Bad.Suffix\n  ci-infra:internalZoneName: internal.example.com\n  ci-infra:downloadsBucketName: downloads.example.com\n  ci-infra:agentStacks:\n    builders:\n      minSize: 6\n")

	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "bad", "-dir", dir}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout.String(), "nothing is planned")
	assert.Contains(t, stderr.String(), "ci-infra:bucketSuffix:")
	assert.Contains(t, stderr.String(), "ci-infra:agentStacks.builders.maxSize: must be >= MinSize (6), got 5")
	assert.Contains(t, stderr.String(), "ci-infra:buildkiteOrg: not set", "missing and invalid keys are reported in one run")
}

func TestMisspeltKeyIsRefused(t *testing.T) {
	prod, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	dir := stackDir(t, "typo", string(prod)+"  ci-infra:agentMaxSize: 3\n  ci-infra:bucketSufix: other\n")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "typo", "-dir", dir}, &stdout, &stderr)
	assert.Equal(t, 1, code, "the operator must learn that the limit did not change")
	assert.Empty(t, stdout.String(), "nothing is planned")
	assert.Contains(t, stderr.String(), "ci-infra:agentMaxSize: is not a key of this project (Pulumi.yaml declares no such key); did you mean agentStacks.test.maxSize, now `pulumi config set --path agentStacks.test.maxSize <value>`?")
	assert.Contains(t, stderr.String(), "ci-infra:bucketSufix: is not a key of this project (Pulumi.yaml declares no such key); did you mean ci-infra:bucketSuffix?", "every undeclared key is named in one run")
}

// stackDir writes Pulumi.yaml and a stack file "<name>" into a temporary
// project directory.
func stackDir(t *testing.T, name, stackYAML string) string {
	dir := t.TempDir()
	project, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+name+".yaml"), []byte(stackYAML), 0o644))
	// The secrets project, which plans the secrets of a stack that keeps none.
	secrets, err := os.ReadFile(filepath.Join(testenv.Root(t), "secrets", "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "secrets"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secrets", "Pulumi.yaml"), secrets, 0o644))
	return dir
}

func TestMandatoryViolationExitsNonZero(t *testing.T) {
	prod, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	// Valid config, but SSH opens tcp/22 to the world: the pack refuses it.
	dir := stackDir(t, "ssh", string(prod)+"  ci-infra:agentKeyName: ops\n")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "ssh", "-dir", dir}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout.String(), "[mandatory] deny_agent_stack_ssh")
	assert.Contains(t, stderr.String(), "mandatory policy violations")
}

func TestUnknownStackFileIsAnError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "nosuchstack", "-dir", testenv.Root(t)}, &stdout, &stderr)
	assert.Equal(t, 1, code, "a stack with no file lacks its required keys")
	assert.Contains(t, stderr.String(), "ci-infra:bucketSuffix: not set")
}

// -secrets prints the one table of secrets for a stack's config: what the
// scripts ask for, and whose it is.
func TestSecretsPrintsTheTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-stack", "prod", "-dir", testenv.Root(t), "-secrets"}, &stdout, &stderr), stderr.String())
	var table []struct {
		Key    string
		Needed bool
		Owner  string
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &table))
	needed := map[string]bool{}
	for _, row := range table {
		needed[row.Key] = row.Needed
		assert.NotEmpty(t, row.Owner, row.Key)
	}
	assert.Equal(t, map[string]bool{"buildkiteAgentToken": true, "buildkiteDeployAgentToken": true, "agentSshPrivateKey": true,
		"buildSafetyGithubToken": true, "dockerHubUser": true, "dockerHubPassword": true, "webhookSecret": false}, needed,
		"prod has no webhook, so no webhookSecret")
}
