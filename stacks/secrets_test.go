package stacks

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
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
	pinSecretsStack(t, &opts, main.Outputs["secretsNeeded"].Value)
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

	// A secret in plain text is refused in the words the main stack uses
	// (storedInPlainText), with how to set it in this stack.
	plain := opts
	plain.Secrets = slices.DeleteFunc(slices.Clone(opts.Secrets), func(k string) bool { return k == "ci-infra-secrets:buildkiteAgentToken" })
	_, err = plan.Run(BuildSecrets, plain)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ci-infra-secrets:buildkiteAgentToken: is stored in plain text in the stack file; remove it and run `pulumi -C secrets config set --secret buildkiteAgentToken <value>`")

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
	pinSecretsStack(t, &secrets, needed)
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

// pinSecretsStack makes opts the secrets stack of a main stack whose
// secretsNeeded output is needed, pinned to it as an operator pins it.
func pinSecretsStack(t *testing.T, opts *plan.Options, needed any) {
	t.Helper()
	opts.References = map[string]map[string]any{"organization/ci-infra/prod": {"secretsNeeded": needed}}
	pins, err := SecretsPins(needed)
	require.NoError(t, err)
	for k, v := range pins {
		opts.Config["ci-infra-secrets:"+k] = v
	}
}

// The secrets stack reads where to write from the main stack's output,
// which comes from whatever backend and state the run was pointed at: it
// writes nowhere its own config does not name (issue 28). Each row is a
// main stack output someone else wrote.
func TestTheSecretsStackWritesOnlyWhereItsConfigSays(t *testing.T) {
	main, err := plan.Run(Build, separateProd(t))
	require.NoError(t, err)
	pristine := func() map[string]any {
		raw, err := json.Marshal(main.Outputs["secretsNeeded"].Value)
		require.NoError(t, err)
		var n map[string]any
		require.NoError(t, json.Unmarshal(raw, &n))
		return n
	}
	place := func(n map[string]any, key string) map[string]any {
		for _, p := range n["places"].([]any) {
			if p.(map[string]any)["key"] == key {
				return p.(map[string]any)
			}
		}
		t.Fatalf("no place for %s", key)
		return nil
	}
	tests := []struct {
		name   string
		change func(n map[string]any)
		want   string // "" when it writes
	}{
		{"what the main stack's program asks", func(map[string]any) {}, ""},
		{"the secret objects in another bucket", func(n map[string]any) { n["bucket"] = "mallory-collects" },
			`ci-infra-secrets:secretsBucket is "buildkite-managedsecrets-mtrlz", but the stack prod asks for the secret objects in "mallory-collects"`},
		{"the agent token at another path", func(n map[string]any) {
			place(n, "buildkiteAgentToken")["parameter"] = "/public/token"
		}, "asks for buildkiteAgentToken at the parameter /public/token; this stack writes it only at the parameter /ci-infra/prod/buildkite-agent-token"},
		{"both tokens under another prefix", func(n map[string]any) {
			n["tokenPath"] = "/mallory/"
			place(n, "buildkiteAgentToken")["parameter"] = "/mallory/buildkite-agent-token"
			place(n, "buildkiteDeployAgentToken")["parameter"] = "/mallory/buildkite-deploy-agent-token"
		}, "asks for buildkiteDeployAgentToken at the parameter /mallory/buildkite-deploy-agent-token"},
		{"the SSH key as a public object", func(n map[string]any) { place(n, "agentSshPrivateKey")["object"] = "public/id" },
			"asks for agentSshPrivateKey at s3://buildkite-managedsecrets-mtrlz/public/id"},
		{"the Docker password into the env file of a pipeline", func(n map[string]any) {
			place(n, "dockerHubPassword")["object"], place(n, "dockerHubPassword")["envVar"] = "env", "X"
		}, "asks for dockerHubPassword at s3://buildkite-managedsecrets-mtrlz/env"},
		{"a secret this stack does not write", func(n map[string]any) {
			n["places"] = append(n["places"].([]any), map[string]any{"key": "operatorPassword", "name": "x", "object": "x"})
		}, "asks for operatorPassword, which this stack does not write"},
		{"webhookSecret to a webhook of someone else's", func(n map[string]any) {
			n["githubOwner"] = "MaterializeInc"
			n["webhooks"] = []any{map[string]any{"repository": "materialize", "url": "https://mallory.example.com/hook", "events": []any{"push"}}}
		}, "ci-infra-secrets:webhookUrls does not list https://mallory.example.com/hook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := plan.LoadOptions(filepath.Join(testenv.Root(t), "secrets"), "prod")
			require.NoError(t, err)
			opts.Config["ci-infra-secrets:webhookSecret"] = "not-a-real-webhook-secret"
			// Pinned to what the reviewed program and config ask for.
			pinSecretsStack(t, &opts, pristine())
			n := pristine()
			tt.change(n)
			opts.References["organization/ci-infra/prod"] = map[string]any{"secretsNeeded": n}
			p, err := plan.Run(BuildSecrets, opts)
			if tt.want == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, p.Find("aws:ssm/parameter:Parameter", ""))
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, p.Find("aws:ssm/parameter:Parameter", ""), "nothing is written")
			assert.Empty(t, p.Find("aws:s3/bucketObjectv2:BucketObjectv2", ""), "nothing is written")
		})
	}

	// Not pinned yet: each key is named with its fix, and nothing written.
	opts, err := plan.LoadOptions(filepath.Join(testenv.Root(t), "secrets"), "prod")
	require.NoError(t, err)
	opts.References = map[string]map[string]any{"organization/ci-infra/prod": {"secretsNeeded": pristine()}}
	_, err = plan.Run(BuildSecrets, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ci-infra-secrets:secretsBucket: not set; the stack prod asks for \"buildkite-managedsecrets-mtrlz\": if that is right, run `pulumi -C secrets config set --plaintext secretsBucket buildkite-managedsecrets-mtrlz`")
	assert.Contains(t, err.Error(), "ci-infra-secrets:tokenPathPrefix: not set; the stack prod asks for \"/ci-infra/prod/\"")
}
