package stacks

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestAdoptionImportsExactlyTheConfiguredResources(t *testing.T) {
	opts := plantest.StackOptions(t, "prod")
	opts.Config["ci-infra:adopt"] = `{
		"config": "buildkite-config-mtrlz",
		"secrets": "buildkite-managedsecrets-mtrlz",
		"internal-zone": "Z0123456789ABCDEFGHIJ",
		"agents": "buildkite",
		"builders": "buildkite-builders",
		"trusted-team": "4242",
		"ci-access": "arn:aws:iam::111122223333:oidc-provider/agent.buildkite.com",
		"agent-policy": "arn:aws:iam::111122223333:policy/buildkite-agent"
	}`
	p, err := plan.Run(Build, opts)
	require.NoError(t, err)

	imported := map[string]string{}
	for _, r := range p.Registered() {
		if r.ImportID != "" {
			imported[r.Name] = r.ImportID
		}
	}
	assert.Equal(t, map[string]string{
		"config-bucket":           "buildkite-config-mtrlz",
		"secrets-bucket":          "buildkite-managedsecrets-mtrlz",
		"internal-zone-zone":      "Z0123456789ABCDEFGHIJ",
		"agents-stack":            "buildkite",
		"builders-stack":          "buildkite-builders",
		"trusted-team-team":       "4242",
		"ci-access-oidc-provider": "arn:aws:iam::111122223333:oidc-provider/agent.buildkite.com",
		"agent-policy-policy":     "arn:aws:iam::111122223333:policy/buildkite-agent",
	}, imported, "downloads and the log bucket are not adopted, so they are created")

	doc := p.Document()
	for _, r := range doc.Resources {
		if r.Name == "config-bucket" {
			assert.Equal(t, "buildkite-config-mtrlz", r.Import, "the plan shows what will be imported")
		}
	}
}

func TestAdoptionIDMayBeANumber(t *testing.T) {
	// `pulumi config set --path adopt.trusted-team 4242` stores a number.
	opts := plantest.StackOptions(t, "prod")
	opts.Config["ci-infra:adopt"] = `{"trusted-team": 4242}`
	p, err := plan.Run(Build, opts)
	require.NoError(t, err)
	team, err := p.Get("github:index/team:Team", "trusted-team-team")
	require.NoError(t, err)
	assert.Equal(t, "4242", team.ImportID)
}

func TestProdAdoptsNothing(t *testing.T) {
	for _, r := range prodPlan(t).Registered() {
		assert.Empty(t, r.ImportID, r.Name)
	}
}

func TestAdoptErrors(t *testing.T) {
	tests := []struct {
		adopt, want string
	}{
		{`{"network": "vpc-123"}`, `"network" is not a component that can adopt a resource`},
		{`{"config": "buildkite-config-other"}`, `config: is "buildkite-config-other", but the configured name is "buildkite-config-mtrlz"`},
		{`{"internal-zone": "zone-1"}`, "not a hosted zone ID"},
		{`{"agents": "buildkite-old"}`, "configured name is \"buildkite\""},
		{`{"trusted-team": "some-other-team"}`, "neither a numeric team ID"},
		{`{"ci-access": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}`, "agent.buildkite.com"},
		{`{"agent-policy": "buildkite-agent"}`, "not the ARN of an IAM policy"},
		{`{"agent-policy": "arn:aws:iam::111122223333:policy/other"}`, `is the policy "other", but agentPolicyName is "buildkite-agent"`},
		{`["config"]`, "malformed"},
		{`{"trusted-team": ["4242"]}`, "trusted-team: the ID must be a string or a number"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			err := badConfig(t, func(c map[string]string, _ *[]string) { c["ci-infra:adopt"] = tt.adopt })
			assert.ErrorContains(t, err, "ci-infra:adopt: ")
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestNextStepsGiveThePublicKeyNotThePrivateOne(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(key, "generated for this test")
	require.NoError(t, err)
	private := string(pem.EncodeToMemory(block))
	signer, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)
	public := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))

	opts := plantest.SecretsInStackOptions(t, "prod")
	opts.Config["ci-infra:agentSshPrivateKey"] = private
	p, err := plan.Run(Build, opts)
	require.NoError(t, err)
	steps := p.Outputs["nextSteps"]
	assert.False(t, steps.Secret, "the next steps are readable")
	joined := strings.Join(steps.Value.([]string), "\n")
	assert.Contains(t, joined, public)
	assert.NotContains(t, joined, "PRIVATE KEY")
	assert.Contains(t, joined, "(arn:aws:iam::123456789012:role/ci-infra-prod-preview, arn:aws:iam::123456789012:role/ci-infra-prod-deploy), written in by scripts/sign-steps")
}

func TestProdCIRoles(t *testing.T) {
	p := prodPlan(t)
	assert.Equal(t, "arn:aws:iam::123456789012:role/ci-infra-prod-preview", p.Outputs["ciPreviewRoleArn"].Value)
	deploy, err := p.Get("aws:iam/role:Role", "ci-access-deploy-role")
	require.NoError(t, err)
	assert.Contains(t, deploy.Input("assumeRolePolicy"), `"agent.buildkite.com:sub":"organization:materialize:pipeline:ci-infra-deploy:ref:refs/heads/main:commit:*:step:deploy"`)
}
