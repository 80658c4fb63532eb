//go:build engine

package enginetest

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
	"mtrlz.dev/ci-infra/stacks"
)

// requiredSecrets are the secrets prod and dr need, with values that are
// obviously not credentials. Nothing else is set: a stack must preview and
// deploy with only the secrets its configuration uses.
var requiredSecrets = map[string]string{
	"buildkiteAgentToken":       "engine-test-agent-token",
	"buildkiteDeployAgentToken": "engine-test-deploy-agent-token",
	"agentSshPrivateKey":        "engine-test-ssh-key",
	// Fork builds of team members are on, as the seed says: the gate needs it.
	"buildSafetyGithubToken": "engine-test-membership-token",
	// Safe builds log in to Docker Hub.
	"dockerHubUser":     "engine-test-docker-user",
	"dockerHubPassword": "engine-test-docker-password",
}

// committedStacks are the stacks whose config files the repository holds.
var committedStacks = []string{"prod", "dr"}

// eachCommittedStack runs test once per committed stack, in a project of its
// own with the stack initialised and its required secrets set in the
// secrets stack of the same name.
func eachCommittedStack(t *testing.T, test func(t *testing.T, p *Project, stack string)) {
	t.Helper()
	for _, stack := range committedStacks {
		t.Run(stack, func(t *testing.T) {
			p := NewProject(t)
			p.InitStack(t, stack, requiredSecrets)
			test(t, p, stack)
		})
	}
}

func TestPreviewNeedsOnlyTheSecretsTheStackUses(t *testing.T) {
	t.Parallel()
	eachCommittedStack(t, func(t *testing.T, p *Project, stack string) {
		out := p.MustPulumi(t, "preview", "--stack", stack, "--non-interactive")
		assert.NotContains(t, out, "missing configuration values")
		assert.Empty(t, warnings(out), "a clean preview has no warnings")
		// The secrets stack reads what the main stack needs from its state.
		p.MustPulumi(t, "up", "--stack", stack, "--yes", "--non-interactive")
		out = p.MustSecretsPulumi(t, nil, "preview", "--stack", stack, "--non-interactive")
		assert.Empty(t, warnings(out), "a clean preview of the secrets stack has no warnings")
	})
}

func TestMissingSecretsAreNamedAtOnce(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", nil)
	// The main stack needs none: it holds none.
	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	p.MustSecretsPulumi(t, nil, "stack", "init", "prod")
	out, err := p.SecretsPulumi(nil, "preview", "--stack", "prod", "--non-interactive")
	require.Error(t, err)
	for key := range requiredSecrets {
		assert.Regexp(t, `ci-infra-secrets:`+key+`: not set; the stack prod needs it; run `+"`"+`pulumi -C secrets config set --secret `+key, out, "every missing secret is named in one run, with its fix")
	}
	assert.NotContains(t, out, "webhookSecret", "an optional secret is not asked for")
}

func TestSecretNeededByTheConfigurationIsNamed(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", map[string]string{
		"buildkiteAgentToken":       requiredSecrets["buildkiteAgentToken"],
		"buildkiteDeployAgentToken": requiredSecrets["buildkiteDeployAgentToken"],
		"agentSshPrivateKey":        requiredSecrets["agentSshPrivateKey"],
		"dockerHubUser":             requiredSecrets["dockerHubUser"],
		"dockerHubPassword":         requiredSecrets["dockerHubPassword"],
	})
	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	out, err := p.SecretsPulumi(nil, "preview", "--stack", "prod", "--non-interactive")
	require.Error(t, err)
	assert.Contains(t, out, "ci-infra-secrets:buildSafetyGithubToken: not set; the stack prod needs it")
	assert.Contains(t, out, "pulumi -C secrets config set --secret buildSafetyGithubToken")
	// Stricter than the seed, and then not needed.
	p.MustPulumi(t, "config", "set", "--stack", "prod", "forkBuildsFromTeam", "false")
	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	p.MustSecretsPulumi(t, nil, "preview", "--stack", "prod", "--non-interactive")
}

func TestUndeclaredKeyIsRefused(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	p.MustPulumi(t, "config", "set", "--stack", "prod", "agentMaxSize", "3")
	// A key agentStacks replaced, as an older stack file holds it, and a
	// field set without --path: both refused, each naming the command.
	p.MustPulumi(t, "config", "set", "--stack", "prod", "buildersMaxSize", "3")
	p.MustPulumi(t, "config", "set", "--stack", "prod", "agentStacks.test.minSize", "1")
	out, err := p.Pulumi("preview", "--stack", "prod", "--non-interactive")
	require.Error(t, err, "a misspelt key must not be accepted silently")
	assert.Contains(t, out, "ci-infra:agentMaxSize: is not a key of this project")
	assert.Contains(t, out, "did you mean agentStacks.test.maxSize, now `pulumi config set --path agentStacks.test.maxSize <value>`?")
	assert.Contains(t, out, "ci-infra:buildersMaxSize: moved into ci-infra:agentStacks: run `pulumi config rm buildersMaxSize`, then `pulumi config set --path agentStacks.builders.maxSize <its value>`")
	assert.Contains(t, out, "ci-infra:agentStacks.test.minSize: is a key of its own, not the field test.minSize of ci-infra:agentStacks")
	assert.Empty(t, p.Export(t, "prod"), "nothing was touched")
}

func TestSecretsRoundTripThroughTheStackFile(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	for key, value := range requiredSecrets {
		got := p.MustSecretsPulumi(t, nil, "config", "get", "--stack", "prod", key)
		assert.Equal(t, value, strings.TrimSpace(got), "%s reads back", key)
	}
	stackFile := p.MustRead(t, filepath.Join("secrets", "Pulumi.prod.yaml"))
	for _, value := range requiredSecrets {
		assert.NotContains(t, stackFile, value, "the stack file holds no plaintext secret")
	}
	assert.NotContains(t, p.MustRead(t, "Pulumi.prod.yaml"), "secure:", "the main stack's file holds no secret at all")
	// The offline plan reads the same file: the encrypted keys are secret
	// placeholders, never values.
	opts, err := plan.LoadOptions(filepath.Join(p.Dir, "secrets"), "prod")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"ci-infra-secrets:agentSshPrivateKey", "ci-infra-secrets:buildkiteAgentToken", "ci-infra-secrets:buildkiteDeployAgentToken",
		"ci-infra-secrets:buildSafetyGithubToken", "ci-infra-secrets:dockerHubUser", "ci-infra-secrets:dockerHubPassword", "ci-infra-secrets:webhookSecret"}, opts.Placeholders)
}

func TestUpIsDeterministicAndMatchesTheOfflinePlan(t *testing.T) {
	t.Parallel()
	eachCommittedStack(t, func(t *testing.T, p *Project, stack string) {
		p.Up(t, stack)
		// A second run of an unchanged program changes nothing.
		p.MustPulumi(t, "preview", "--stack", stack, "--expect-no-changes", "--non-interactive")
		p.MustPulumi(t, "up", "--stack", stack, "--expect-no-changes", "--yes", "--non-interactive")
		p.MustSecretsPulumi(t, nil, "preview", "--stack", stack, "--expect-no-changes", "--non-interactive")

		// What the engine registered is what the offline plan shows.
		opts, err := plan.LoadOptions(p.Dir, stack)
		require.NoError(t, err)
		offline, err := plan.Run(stacks.Build, opts)
		require.NoError(t, err)
		engine := byURN(p.Export(t, stack))
		planned := byURN(FromPlan(offline))
		require.ElementsMatch(t, slices.Collect(maps.Keys(planned)), slices.Collect(maps.Keys(engine)), "the same URNs")
		for urn, want := range planned {
			got := engine[urn]
			assert.Equal(t, want.Type, got.Type, urn)
			assert.Equal(t, want.Parent, got.Parent, urn)
			assert.Equal(t, want.Protect, got.Protect, urn)
			assert.Equal(t, want.Inputs, got.Inputs, urn)
		}
		t.Logf("%s: %d resources through the engine, %d in the offline plan", stack, len(engine), len(planned))

		// The secrets stack too, planned from the main plan's outputs.
		secretsOpts, err := plan.LoadOptions(filepath.Join(p.Dir, "secrets"), stack)
		require.NoError(t, err)
		outputs := map[string]any{}
		for name, out := range offline.Outputs {
			outputs[name] = out.Value
		}
		secretsOpts.References = map[string]map[string]any{"organization/ci-infra/" + stack: outputs}
		offlineSecrets, err := plan.Run(stacks.BuildSecrets, secretsOpts)
		require.NoError(t, err)
		out, err := p.SecretsPulumi(nil, "stack", "export", "--stack", stack)
		require.NoError(t, err, out)
		engine, planned = byURN(ReadExport(t, []byte(out))), byURN(FromPlan(offlineSecrets))
		require.ElementsMatch(t, slices.Collect(maps.Keys(planned)), slices.Collect(maps.Keys(engine)), "the same URNs in the secrets stack")
		for urn, want := range planned {
			assert.Equal(t, want.Protect, engine[urn].Protect, urn)
			assert.Equal(t, want.Inputs, engine[urn].Inputs, urn)
		}
	})
}

func TestDestroyIsRefusedWhileResourcesAreProtected(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	before := p.Export(t, "prod")
	out, err := p.Pulumi("destroy", "--stack", "prod", "--yes", "--non-interactive")
	require.Error(t, err)
	assert.Contains(t, out, "cannot be deleted")
	assert.Contains(t, out, "because it is protected")
	after := byURN(p.Export(t, "prod"))
	for _, r := range before {
		if r.Protect {
			assert.Contains(t, after, r.URN, "a protected resource survives destroy")
		}
	}
	cloud, err := p.Cloud.Resources()
	require.NoError(t, err)
	var buckets []string
	for _, r := range cloud {
		if r.Type == "aws:s3/bucketV2:BucketV2" {
			buckets = append(buckets, r.ID)
		}
	}
	assert.Len(t, buckets, 4, "every bucket still exists in the cloud")
}

func byURN(rs []Resource) map[string]Resource {
	m := map[string]Resource{}
	for _, r := range rs {
		m[r.URN] = r
	}
	return m
}

// toolWarning is the engine's note that a plugin came from the PATH: true of
// every test tool, and of nothing an operator runs.
var toolWarning = regexp.MustCompile(`warning: using pulumi-[a-z-]+ from \$PATH`)

// warnings returns the warnings of a CLI run other than toolWarning.
func warnings(out string) []string {
	var ws []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "warning:") && !toolWarning.MatchString(line) {
			ws = append(ws, strings.TrimSpace(line))
		}
	}
	return ws
}

func TestThePolicyPackPassesThroughTheEngine(t *testing.T) {
	t.Parallel()
	eachCommittedStack(t, func(t *testing.T, p *Project, stack string) {
		out := p.MustPulumi(t, "preview", "--stack", stack, "--policy-pack", "policies", "--non-interactive")
		assert.Contains(t, out, "ci_infra@v0.1.0 (local: policies)")
		assert.NotContains(t, out, "[mandatory]", "no mandatory violation, unknown values of a preview included")
		if stack == "prod" {
			assert.Contains(t, out, "[advisory]  stack_warn_trusted_team_empty", "the rules ran on what the engine registered")
		}
		p.MustPulumi(t, "up", "--stack", stack, "--policy-pack", "policies", "--yes", "--non-interactive")
	})
}

// The README's policy-pack steps on a plain CLI install: nothing on PATH
// but pulumi, and the OPA language plugin in the plugin cache, where the
// CLI installs it on first use. Take it out of the cache and the same
// preview fails, naming the plugin: the CLI's own lookup found it.
func TestThePolicyPackRunsFromThePluginCache(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	for _, name := range []string{"pulumi-language-opa", "pulumi-analyzer-policy-opa"} {
		require.Equal(t, name, p.lookPath(name), "%s must not be on the PATH", name)
	}
	out := p.MustPulumi(t, "preview", "--stack", "prod", "--policy-pack", "policies", "--non-interactive")
	assert.Contains(t, out, "ci_infra@v0.1.0 (local: policies)")
	assert.NotContains(t, out, "pulumi-language-opa from $PATH", "the OPA plugin came from the cache, not the PATH")
	assert.NotContains(t, out, "pulumi-analyzer-policy-opa")

	// The version the stand-in is installed as is the one the CLI pins.
	dir, err := command(filepath.Join(testenv.RootDir(), "internal", "testkit", "pulumicli"), nil, "go", "list", "-m", "-f", "{{.Dir}}", testenv.PulumiCLIModule)
	require.NoError(t, err)
	source, err := os.ReadFile(filepath.Join(strings.TrimSpace(dir), "util", "plugin.go"))
	require.NoError(t, err)
	assert.Contains(t, string(source), `"opa": semver.MustParse("`+testenv.OPAPluginVersion+`")`, "CLI's pin of the OPA language plugin")

	plugin := filepath.Join(p.Home, OPAPlugin)
	require.NoError(t, os.Remove(plugin))
	out, err = p.Pulumi("preview", "--stack", "prod", "--policy-pack", "policies", "--non-interactive")
	require.Error(t, err, "%s", out)
	assert.Contains(t, out, "opa", "the CLI names the missing language plugin")
}

func TestAMandatoryViolationStopsTheEngine(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	// SSH to the agents opens tcp/22 to the world: the pack refuses it.
	p.MustPulumi(t, "config", "set", "--stack", "prod", "agentKeyName", "ops")
	out, err := p.Pulumi("preview", "--stack", "prod", "--policy-pack", "policies", "--non-interactive")
	require.Error(t, err)
	assert.Contains(t, out, "deny_agent_stack_ssh")
	assert.Empty(t, p.Export(t, "prod"), "nothing was touched")
}

// A rebuild may land in the account production still runs in (a region is
// lost, not the account). It must not collide with prod on any name the
// account holds once: the template's ${StackName}-Role, the agents' policy,
// the OIDC provider for agent.buildkite.com, the bucket names.
func TestDrBesideProdInOneAccount(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	for _, stack := range committedStacks {
		p.InitStack(t, stack, requiredSecrets)
	}
	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	// As scripts/dr-rebuild sets it when the account has a provider already.
	p.MustPulumi(t, "config", "set", "--stack", "dr", "manageOidcProvider", "false")
	p.MustPulumi(t, "up", "--stack", "dr", "--yes", "--non-interactive")
	p.MustPulumi(t, "preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
	p.MustPulumi(t, "preview", "--stack", "dr", "--expect-no-changes", "--non-interactive")

	provider := p.MustPulumi(t, "stack", "output", "--stack", "prod", "--show-secrets", "ciDeployRoleArn")
	require.Contains(t, provider, ":role/ci-infra-prod-deploy")
	var drDeploy Resource
	for _, r := range p.Export(t, "dr") {
		if strings.HasSuffix(r.URN, "::ci-access-deploy-role") {
			drDeploy = r
		}
	}
	assert.Contains(t, drDeploy.Inputs.(map[string]any)["assumeRolePolicy"], `"Federated":"arn:aws:iam::123456789012:oidc-provider/agent.buildkite.com"`,
		"dr's roles trust the provider prod manages")
}
