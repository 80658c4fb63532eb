//go:build engine

package enginetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
)

// splitProd sets up prod as an operator does from a laptop (README, "From
// a laptop"): the main stack with an empty passphrase, the secrets stack of
// the same name with its secrets, then scripts/ci-up, which updates the
// main stack without its agent stacks, then the secrets stack, then the
// main stack whole.
func splitProd(t *testing.T) *Project {
	t.Helper()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	out, err := p.Run(nil, "scripts/ci-up", "prod", "--yes")
	require.NoError(t, err, out)
	assert.Contains(t, out, "The secrets stack prod has not run yet")
	for _, value := range requiredSecrets {
		assert.NotContains(t, out, value, "a secret is never echoed")
	}
	return p
}

// The stack every pull request previews holds no secret value, neither in
// its config nor in its state, and previews with no key at all; the
// secrets stack wrote every value where the agents read it.
func TestTheMainStackHoldsNoSecretAndPreviewsWithoutAKey(t *testing.T) {
	t.Parallel()
	p := splitProd(t)

	// State: no encrypted value anywhere. The stack file: the passphrase's
	// salt is its only encrypted field.
	export := p.MustPulumi(t, "stack", "export", "--stack", "prod")
	assert.NotContains(t, export, "ciphertext", "no secret in the main stack's state")
	for _, value := range requiredSecrets {
		assert.NotContains(t, export, value)
	}
	stackFile := p.MustRead(t, "Pulumi.prod.yaml")
	assert.NotContains(t, stackFile, "secure:", "no secret in the main stack's config")
	assert.Contains(t, stackFile, "encryptionsalt:")

	// The values are where the agents read them, written by the secrets stack.
	cloud, err := p.Cloud.Resources()
	require.NoError(t, err)
	values := map[string]string{}
	plain := func(v resource.PropertyValue) string {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		if v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	for _, r := range cloud {
		in, err := r.InputMap()
		require.NoError(t, err)
		switch r.Type {
		case "aws:ssm/parameter:Parameter":
			values[plain(in["name"])] = plain(in["value"])
		case "aws:s3/bucketObjectv2:BucketObjectv2":
			values[plain(in["bucket"])+"/"+plain(in["key"])] = plain(in["content"])
		}
	}
	assert.Equal(t, requiredSecrets["buildkiteAgentToken"], values["/ci-infra/prod/buildkite-agent-token"])
	assert.Equal(t, requiredSecrets["buildkiteDeployAgentToken"], values["/ci-infra/prod/buildkite-deploy-agent-token"])
	assert.Equal(t, requiredSecrets["agentSshPrivateKey"], values["buildkite-managedsecrets-mtrlz/private_ssh_key"])
	assert.Equal(t, "DOCKER_LOGIN_USER='"+requiredSecrets["dockerHubUser"]+"'\n", values["buildkite-managedsecrets-mtrlz/environment"])

	// A pull request's preview: an empty passphrase, no other key or secret
	// in its environment. It passes, and shows the diff of a changed input.
	p.MustPulumi(t, "preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
	p.MustPulumi(t, "config", "set", "--stack", "prod", "--path", "agentStacks.test.maxSize", "9")
	diff := p.MustPulumi(t, "preview", "--stack", "prod", "--diff", "--non-interactive")
	assert.Regexp(t, `(?s)~ aws:cloudformation/stack:Stack: \(update\).*::agents-stack\].*~ MaxSize\s*: "40" => "9"`, diff, "the changed agent stack shows")
	assert.Contains(t, diff, "~ 1 to update")

	// A refresh reads back only what the stack owns: still nothing secret.
	p.MustPulumi(t, "refresh", "--stack", "prod", "--yes", "--non-interactive")
	assert.NotContains(t, p.MustPulumi(t, "stack", "export", "--stack", "prod"), "ciphertext", "no secret after a refresh")

	// Without the empty passphrase the CLI asks for one and, with no
	// terminal, refuses: a pipeline must pass PULUMI_CONFIG_PASSPHRASE="".
	out, err := p.Run(nil, "env", "-u", "PULUMI_CONFIG_PASSPHRASE", "pulumi", "preview", "--stack", "prod", "--non-interactive")
	assert.Error(t, err, "no passphrase variable at all: %s", out)
}

// Rotating a secret is the secrets stack's update alone: the main stack's
// preview shows no change.
func TestRotatingASecretChangesNothingInTheMainStack(t *testing.T) {
	t.Parallel()
	p := splitProd(t)
	p.MustSecretsPulumi(t, []byte("engine-test-docker-password-2"), "config", "set", "--secret", "--stack", "prod", "dockerHubPassword")
	out := p.MustSecretsPulumi(t, nil, "up", "--stack", "prod", "--yes", "--non-interactive", "--diff")
	assert.Contains(t, out, "secret-files/DOCKER_LOGIN_PASSWORD")
	p.MustPulumi(t, "preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
	export := p.MustPulumi(t, "stack", "export", "--stack", "prod")
	assert.NotContains(t, export, "engine-test-docker-password-2")
	_, err := os.Stat(filepath.Join(p.Dir, "secrets", "Pulumi.prod.yaml"))
	assert.NoError(t, err, "the secrets live in the secrets stack's file, encrypted with its own key")
	assert.NotContains(t, p.MustRead(t, filepath.Join("secrets", "Pulumi.prod.yaml")), "engine-test-docker-password-2")
}

// An existing prod, with its secrets in its own config and state, moves to
// the split layout with scripts/split-secrets: nothing protected replaced
// or deleted, the secret values still in place, and afterwards prod holds
// no secret and previews with an empty passphrase.
func TestSplitSecretsMovesAnExistingStack(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStackWithSecrets(t, "prod", requiredSecrets)
	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	before, err := p.Cloud.Resources()
	require.NoError(t, err)

	// The operator's passphrase (the harness's) becomes the secrets stack's.
	out, err := p.Run(nil, "scripts/split-secrets", "prod", "--yes")
	require.NoError(t, err, out)
	assert.NotContains(t, out, "deleted")
	assert.NotContains(t, out, "replaced")
	for _, value := range requiredSecrets {
		assert.NotContains(t, out, value, "a secret is never echoed")
	}

	// The cloud holds the same resources, the secret values unchanged.
	after, err := p.Cloud.Resources()
	require.NoError(t, err)
	ids := func(rs []fakecloud.Record) map[string]string {
		m := map[string]string{}
		for _, r := range rs {
			m[r.Type+" "+r.ID] = string(r.Inputs)
		}
		return m
	}
	b, a := ids(before), ids(after)
	for id := range b {
		if _, ok := a[id]; !ok {
			t.Errorf("%s is gone", id)
		}
	}
	for _, r := range after {
		if r.Type == "aws:ssm/parameter:Parameter" || r.Type == "aws:s3/bucketObjectv2:BucketObjectv2" {
			assert.Equal(t, b[r.Type+" "+r.ID], string(r.Inputs), "%s %s keeps its value", r.Type, r.ID)
		}
	}

	// prod: no secret, an empty passphrase, no change to preview.
	p.SetEnv("PULUMI_CONFIG_PASSPHRASE", "")
	p.MustPulumi(t, "preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
	export := p.MustPulumi(t, "stack", "export", "--stack", "prod")
	assert.NotContains(t, export, "ciphertext")
	assert.NotContains(t, p.MustRead(t, "Pulumi.prod.yaml"), "secure:")
	// The secrets stack owns them now, with the old passphrase.
	out, err = p.Run(nil, "env", "PULUMI_CONFIG_PASSPHRASE="+Passphrase, "pulumi", "-C", "secrets", "preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
	require.NoError(t, err, out)
	out, err = p.Run(nil, "env", "PULUMI_CONFIG_PASSPHRASE="+Passphrase, "pulumi", "-C", "secrets", "stack", "export", "--stack", "prod")
	require.NoError(t, err, out)
	assert.Contains(t, out, "/ci-infra/prod/buildkite-agent-token")
	assert.Contains(t, out, "private_ssh_key")
}

// A pull request's preview as the pipeline runs it (scripts/ci-preview
// prod): no passphrase variable, no secrets stack key, nothing secret in
// its environment. It passes and its summary (the build's annotation) is
// the diff, by resource and key; a change that would replace a protected
// resource fails it, and the summary says so.
func TestAPullRequestPreviewAnnotatesItsDiff(t *testing.T) {
	t.Parallel()
	p := splitProd(t)
	preview := func() (string, error) {
		return p.Run(nil, "env", "-u", "PULUMI_CONFIG_PASSPHRASE", "-u", "CI_INFRA_SECRETS_PASSPHRASE", "scripts/ci-preview", "prod")
	}

	out, err := preview()
	require.NoError(t, err, out)
	assert.Contains(t, out, "**pulumi preview of prod** (exit 0): no changes")
	assert.Contains(t, out, "Protected resources: none replaced or deleted.")

	p.MustPulumi(t, "config", "set", "--stack", "prod", "--path", "agentStacks.test.maxSize", "9")
	out, err = preview()
	require.NoError(t, err, out)
	assert.Contains(t, out, "| update | `aws:cloudformation/stack:Stack` | `agents-stack` | parameters |", "the diff names the resource and the key")
	assert.Contains(t, out, "- `agents-stack` parameters.MaxSize: \"40\" → \"9\"", "and the value, old and new")
	assert.Contains(t, out, "Protected resources: none replaced or deleted.")

	// A new bucket suffix renames the buckets: the protected secrets bucket
	// would be replaced.
	p.MustPulumi(t, "config", "set", "--stack", "prod", "bucketSuffix", "mtrlz-renamed")
	out, err = preview()
	require.Error(t, err, "a protected resource replaced fails the preview:\n%s", out)
	assert.Contains(t, out, "**Protected resources replaced or deleted:")
	for _, value := range requiredSecrets {
		assert.NotContains(t, out, value)
	}
}
