//go:build engine

package enginetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// dr-rebuild's answers on stdin, in its order: the agent token, the deploy
// cluster's agent token, the path of the SSH key file, the membership
// token, the Docker Hub user and password.
func drAnswers(t *testing.T, p *Project) []byte {
	keyFile := filepath.Join(p.Dir, "engine-test-agent-key")
	require.NoError(t, os.WriteFile(keyFile, []byte(requiredSecrets["agentSshPrivateKey"]), 0o600))
	return []byte(requiredSecrets["buildkiteAgentToken"] + "\n" + requiredSecrets["buildkiteDeployAgentToken"] + "\n" + keyFile + "\n" + requiredSecrets["buildSafetyGithubToken"] + "\n" +
		requiredSecrets["dockerHubUser"] + "\n" + requiredSecrets["dockerHubPassword"] + "\n")
}

func TestDRRebuildEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("fresh account, new stack file", func(t *testing.T) {
		p := NewProject(t)
		p.UseAWSAPIs(t)
		out, err := p.Run(drAnswers(t, p), "scripts/dr-rebuild", "--stack", "rebuilt", "--region", "us-west-2",
			"--bucket-suffix", "mtrlz-rebuilt", "--downloads-bucket", "downloads-rebuilt.mtrlz.dev", "--yes")
		require.NoError(t, err, out)
		for _, want := range []string{
			"bootstrap script readable",
			"private zone internal.mtrlz.dev. associated with vpc-",
			"buildkite-rebuilt: CREATE_COMPLETE",
			"buildkite-builders-rebuilt: CREATE_COMPLETE",
			"builders in service: 1",
			"Add the agents' SSH public key",
		} {
			assert.Contains(t, out, want)
		}
		assert.NotContains(t, out, requiredSecrets["buildkiteAgentToken"], "a secret is never echoed")
		stackFile := p.MustRead(t, "Pulumi.rebuilt.yaml")
		assert.Contains(t, stackFile, "ci-infra:repositories:", "prod's config is copied")
		assert.Contains(t, stackFile, "stackName: buildkite-rebuilt")
		var rebuilt struct{ Config map[string]any }
		require.NoError(t, yaml.Unmarshal([]byte(stackFile), &rebuilt))
		assert.NotContains(t, rebuilt.Config, "ci-infra:downloadsDomain", "the alias stays with the stack that holds it")
		assert.Equal(t, "internal.mtrlz.dev", rebuilt.Config["ci-infra:internalZoneName"], "what is not placed is prod's")
		assert.NotContains(t, stackFile, "manageOidcProvider", "a fresh account gets its own OIDC provider")
		assert.NotContains(t, stackFile, "secure:", "the main stack holds no secret")
		secretsFile := p.MustRead(t, filepath.Join("secrets", "Pulumi.rebuilt.yaml"))
		for _, value := range requiredSecrets {
			assert.NotContains(t, secretsFile, value, "secrets are stored encrypted")
		}
		p.MustPulumi(t, "preview", "--stack", "rebuilt", "--expect-no-changes", "--non-interactive")
		p.MustSecretsPulumi(t, nil, "preview", "--stack", "rebuilt", "--expect-no-changes", "--non-interactive")
	})

	t.Run("beside prod, committed Pulumi.dr.yaml", func(t *testing.T) {
		p := NewProject(t)
		p.UseAWSAPIs(t)
		p.InitStack(t, "prod", requiredSecrets)
		p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
		before := p.MustRead(t, "Pulumi.dr.yaml")
		out, err := p.Run(drAnswers(t, p), "scripts/dr-rebuild", "--stack", "dr", "--region", "us-west-2",
			"--bucket-suffix", "mtrlz-dr", "--downloads-bucket", "downloads-dr.mtrlz.dev", "--yes")
		require.NoError(t, err, out)
		assert.Contains(t, out, "The account has an OIDC provider for agent.buildkite.com already")
		assert.Contains(t, out, "builders in service: 1")
		after := p.MustRead(t, "Pulumi.dr.yaml")
		assert.Contains(t, after, "ci-infra:manageOidcProvider: \"false\"")
		assert.Equal(t, strings.Count(before, "ci-infra:repositories:"), strings.Count(after, "ci-infra:repositories:"),
			"the existing stack file is kept, not appended to")
		p.MustPulumi(t, "preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
	})
}
