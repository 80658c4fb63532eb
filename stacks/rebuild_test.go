package stacks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// rebuildOf writes the stack file of r from the stack file from (in a copy
// of the project, so that the effective config resolves as the command
// resolves it) and returns its config.
func rebuildOf(t *testing.T, r Rebuild, from string) (file string, config map[string]any) {
	t.Helper()
	dir := t.TempDir()
	project, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+r.From+".yaml"), []byte(from), 0o644))
	effective, err := plan.LoadOptions(dir, r.From)
	require.NoError(t, err)
	out, err := r.StackFile([]byte(from), effective.Config)
	require.NoError(t, err)
	return string(out), stackConfig(t, out)
}

func stackConfig(t *testing.T, file []byte) map[string]any {
	t.Helper()
	var doc struct{ Config map[string]any }
	require.NoError(t, yaml.Unmarshal(file, &doc))
	return doc.Config
}

var drRebuild = Rebuild{From: "prod", Stack: "dr", Region: "us-west-2", BucketSuffix: "mtrlz-dr", DownloadsBucket: "downloads-dr.mtrlz.dev"}

// The committed DR example is what scripts/dr-rebuild writes for it: the
// rules of a rebuild live in stacks.Rebuild alone, and the example (which
// the DR tests plan, price and hold to the policy pack) is their output.
func TestTheDRExampleIsWhatARebuildWrites(t *testing.T) {
	prod, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	dr, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.dr.yaml"))
	require.NoError(t, err)
	_, got := rebuildOf(t, drRebuild, string(prod))
	assert.Equal(t, stackConfig(t, dr), got)
}

func TestARebuildKeepsNoSecretNoAliasAndTheOperatorsChoices(t *testing.T) {
	from := `config:
  aws:region: us-east-1
  github:owner: example-org
  ci-infra:buildkiteOrg: example
  ci-infra:bucketSuffix: example
  # a comment about the lost stack
  ci-infra:internalZoneName: internal.example.com
  ci-infra:downloadsBucketName: downloads.example.com
  ci-infra:downloadsDomain: downloads.example.com
  ci-infra:publicZoneId: Z0123456789
  ci-infra:adopt:
    downloads: downloads.example.com
  ci-infra:agentStacks:
    test:
      stackName: ci-tests
      maxSize: 30
  ci-infra:buildkiteAgentToken:
    secure: v1:not-real-ciphertext
`
	r := Rebuild{From: "main", Stack: "west", Region: "us-west-2", BucketSuffix: "example-west", DownloadsBucket: "downloads-west.example.com"}
	file, got := rebuildOf(t, r, from)
	for _, key := range []string{"ci-infra:buildkiteAgentToken", "ci-infra:downloadsDomain", "ci-infra:publicZoneId", "ci-infra:adopt"} {
		assert.NotContains(t, got, key)
	}
	assert.NotContains(t, file, "secure:")
	assert.NotContains(t, file, "a comment about the lost stack")
	assert.Equal(t, "us-west-2", got["aws:region"])
	assert.Equal(t, "example-west", got["ci-infra:bucketSuffix"])
	assert.Equal(t, "downloads-west.example.com", got["ci-infra:downloadsBucketName"])
	assert.Equal(t, false, got["ci-infra:manageGitHub"])
	assert.Equal(t, "buildkite-agent-west", got["ci-infra:agentPolicyName"])
	assert.Equal(t, "internal.example.com", got["ci-infra:internalZoneName"], "what is not placed is copied")
	assert.Equal(t, map[string]any{
		"test":     map[string]any{"stackName": "ci-tests-west", "maxSize": 30},
		"builders": map[string]any{"stackName": "buildkite-builders-west", "burst": map[string]any{"stackName": "buildkite-builders-burst-west"}},
		"deploy":   map[string]any{"stackName": "buildkite-deploy-west"},
	}, got["ci-infra:agentStacks"], "the lost stack's sizes stay; each stack takes the new stack's name after its own")

	// The file plans: a rebuild's config is a valid config.
	dir := t.TempDir()
	project, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.west.yaml"), []byte(file), 0o644))
	opts, err := plan.LoadOptions(dir, "west")
	require.NoError(t, err)
	_, err = plan.Run(Build, opts)
	require.NoError(t, err)
}

func TestARebuildIsRefusedWhereTheConfigWouldBe(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Rebuild)
		want   string
	}{
		{"same stack", func(r *Rebuild) { r.Stack = "prod" }, `stack "prod" is the stack it is rebuilt from`},
		{"stack with capitals", func(r *Rebuild) { r.Stack = "DR" }, "lowercase letters, digits and hyphens"},
		{"not a region", func(r *Rebuild) { r.Region = "west" }, `aws:region: "west" is not an AWS region`},
		{"a region without prices", func(r *Rebuild) { r.Region = "ap-south-2" }, "aws:region: \"ap-south-2\" has no prices"},
		{"suffix with dots", func(r *Rebuild) { r.BucketSuffix = "mtrlz.dr" }, "ci-infra:bucketSuffix: \"mtrlz.dr\" must be lowercase letters, digits and inner hyphens"},
		{"downloads bucket not a bucket name", func(r *Rebuild) { r.DownloadsBucket = "Downloads" }, "ci-infra:downloadsBucketName:"},
	}
	require.NoError(t, drRebuild.Check())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := drRebuild
			tt.change(&r)
			assert.ErrorContains(t, r.Check(), tt.want)
		})
	}
}
