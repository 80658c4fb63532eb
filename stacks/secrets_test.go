package stacks

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/plantest"
	"mtrlz.dev/ci-infra/internal/testenv"
)

// separateProd is prod's config with separateSecrets, as after
// scripts/split-secrets: no secret key set.
func separateProd(t *testing.T) plan.Options {
	t.Helper()
	opts := plantest.StackOptions(t, "prod")
	for _, k := range opts.Placeholders {
		delete(opts.Config, k)
	}
	opts.Placeholders, opts.Secrets = nil, nil
	opts.Config["ci-infra:separateSecrets"] = "true"
	return opts
}

// With separateSecrets the stack a pull request previews holds no secret:
// no input of any resource is secret, no token parameter, no secret object;
// what it needs is an output, secretsNeeded, for the secrets stack.
func TestSeparateSecretsKeepsEverySecretOutOfTheMainStack(t *testing.T) {
	p, err := plan.Run(Build, separateProd(t))
	require.NoError(t, err)
	for _, r := range p.Registered() {
		for key := range r.Inputs {
			assert.False(t, r.IsSecret(string(key)), "%s: %s is secret", r.Name, key)
		}
	}
	assert.Empty(t, p.Find("aws:ssm/parameter:Parameter", ""), "the tokens are the secrets stack's")
	for _, o := range p.Find("aws:s3/bucketObjectv2:BucketObjectv2", "") {
		assert.NotRegexp(t, `^secrets-(private_ssh_key|build-safety|environment|secret-files)`, o.Name)
	}
	for name, out := range p.Outputs {
		assert.False(t, out.Secret, "output %s is secret", name)
	}
	needed := p.Outputs["secretsNeeded"].Value.(map[string]any)
	assert.Equal(t, "buildkite-managedsecrets-mtrlz", needed["bucket"])
	var keys []string
	for _, place := range needed["places"].([]any) {
		keys = append(keys, place.(map[string]any)["key"].(string))
	}
	assert.Equal(t, []string{"buildkiteAgentToken", "buildkiteDeployAgentToken", "agentSshPrivateKey",
		"buildSafetyGithubToken", "dockerHubUser", "dockerHubPassword"}, keys)
	// The agents still find their tokens where the secrets stack writes them.
	deploy, err := p.Get("aws:cloudformation/stack:Stack", "deploy-agents-stack")
	require.NoError(t, err)
	assert.Equal(t, "/ci-infra/prod/buildkite-deploy-agent-token", deploy.Input("parameters.BuildkiteAgentTokenParameterStorePath"))
}

// A secret set on a stack that keeps none is refused, naming the key and
// where it goes instead.
func TestSeparateSecretsRefusesASecretHere(t *testing.T) {
	opts := separateProd(t)
	opts.Config["ci-infra:dockerHubPassword"] = "not-a-real-password"
	opts.Secrets = []string{"ci-infra:dockerHubPassword"}
	_, err := plan.Run(Build, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ci-infra:dockerHubPassword: holds a secret, and this stack keeps none")
	assert.Contains(t, err.Error(), "pulumi -C secrets config set --secret dockerHubPassword")
}

// The secrets stack writes exactly what the main stack's secretsNeeded
// says, from its own config: the two tokens into SSM, the secret objects
// into the main stack's secrets bucket, each value secret.
func TestTheSecretsStackWritesWhatTheMainStackNeeds(t *testing.T) {
	main, err := plan.Run(Build, separateProd(t))
	require.NoError(t, err)
	opts, err := plan.LoadOptions(filepath.Join(testenv.Root(t), "secrets"), "prod")
	require.NoError(t, err)
	opts.References = map[string]map[string]any{
		"organization/ci-infra/prod": {"secretsNeeded": main.Outputs["secretsNeeded"].Value},
	}
	p, err := plan.Run(BuildSecrets, opts)
	require.NoError(t, err)
	params := map[string]bool{}
	for _, r := range p.Find("aws:ssm/parameter:Parameter", "") {
		params[r.Input("name").(string)] = true
		assert.True(t, r.IsSecret("value"), "%s is secret", r.Name)
		assert.True(t, r.Protect, "%s is protected", r.Name)
	}
	assert.Equal(t, map[string]bool{"/ci-infra/prod/buildkite-agent-token": true, "/ci-infra/prod/buildkite-deploy-agent-token": true}, params)
	var objects []string
	for _, r := range p.Find("aws:s3/bucketObjectv2:BucketObjectv2", "") {
		assert.Equal(t, "buildkite-managedsecrets-mtrlz", r.Input("bucket"))
		assert.True(t, r.IsSecret("content"), "%s is secret", r.Name)
		objects = append(objects, r.Input("key").(string))
	}
	assert.ElementsMatch(t, []string{"private_ssh_key", "build-safety-github-token", "environment", "secret-files/DOCKER_LOGIN_PASSWORD"}, objects)

	// A missing secret is named, with every other one, before anything.
	delete(opts.Config, "ci-infra-secrets:dockerHubPassword")
	delete(opts.Config, "ci-infra-secrets:agentSshPrivateKey")
	p, err = plan.Run(BuildSecrets, opts)
	require.Error(t, err)
	for _, key := range []string{"ci-infra-secrets:dockerHubPassword: not set", "ci-infra-secrets:agentSshPrivateKey: not set"} {
		assert.Contains(t, err.Error(), key)
	}
	assert.Empty(t, p.Find("aws:ssm/parameter:Parameter", ""), "nothing is declared")

	// A main stack that keeps its secrets has no secretsNeeded: said so.
	opts.References = map[string]map[string]any{"organization/ci-infra/prod": {}}
	_, err = plan.Run(BuildSecrets, opts)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "separateSecrets"), err.Error())
}

// Webhooks carry webhookSecret, so with separateSecrets the main stack
// declares none and lists them in secretsNeeded; the secrets stack
// declares them, signed with its own webhookSecret, and asks for it.
func TestTheSecretsStackDeclaresTheWebhooks(t *testing.T) {
	opts := separateProd(t)
	opts.Config["ci-infra:repositories"] = `[{"name":"smokey","defaultBranch":"master","requiredChecks":["ci/circleci"],
		"webhooks":[{"url":"https://deployer.example.com/github","events":["push","status"]}]}]`
	main, err := plan.Run(Build, opts)
	require.NoError(t, err)
	assert.Empty(t, main.Find("github:index/repositoryWebhook:RepositoryWebhook", ""), "the main stack holds no webhook")
	needed := main.Outputs["secretsNeeded"].Value.(map[string]any)
	assert.Equal(t, "MaterializeInc", needed["githubOwner"])
	assert.Len(t, needed["webhooks"], 1)

	secrets, err := plan.LoadOptions(filepath.Join(testenv.Root(t), "secrets"), "prod")
	require.NoError(t, err)
	secrets.References = map[string]map[string]any{"organization/ci-infra/prod": {"secretsNeeded": needed}}
	p, err := plan.Run(BuildSecrets, secrets)
	require.NoError(t, err)
	hooks := p.Find("github:index/repositoryWebhook:RepositoryWebhook", "")
	require.Len(t, hooks, 1)
	assert.Equal(t, "smokey", hooks[0].Input("repository"))
	assert.True(t, hooks[0].IsSecret("configuration"), "the signing secret stays secret")

	delete(secrets.Config, "ci-infra-secrets:webhookSecret")
	_, err = plan.Run(BuildSecrets, secrets)
	assert.ErrorContains(t, err, "ci-infra-secrets:webhookSecret: not set")
}
