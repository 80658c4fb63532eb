package stacks

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestProdTrustedTeamAndGuardrails(t *testing.T) {
	p := prodPlan(t)
	team, err := p.Get("github:index/team:Team", "trusted-team-team")
	require.NoError(t, err)
	assert.Equal(t, "build-authorized", team.Input("name"))
	assert.Equal(t, "closed", team.Input("privacy"))
	assert.True(t, team.Protect)
	assert.Empty(t, p.Find("github:index/teamMembers:TeamMembers", ""), "the seed names nobody: membership is for operators to fill")

	bp, err := p.Get("github:index/branchProtection:BranchProtection", "guardrails-materialize-default-branch")
	require.NoError(t, err)
	assert.Equal(t, "materialize", bp.Input("repositoryId"))
	assert.Equal(t, "master", bp.Input("pattern"))
	assert.Equal(t, []any{"buildkite/test"}, bp.Input("requiredStatusChecks").([]any)[0].(map[string]any)["contexts"])
}

func TestProdBuildSafetyHook(t *testing.T) {
	p := prodWithSecretsPlan(t)
	env, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "secrets-env")
	require.NoError(t, err)
	assert.Equal(t, "env", env.Input("key"))
	assert.Equal(t, "buildkite-managedsecrets-mtrlz", env.Input("bucket"))
	assert.False(t, env.IsSecret("content"), "the gate is reviewable in the plan")
	want, err := agent.RenderEnv(agent.EnvParams{
		Org: "MaterializeInc", Team: "build-authorized", APIURL: "https://api.github.com",
		TokenURL: "s3://buildkite-managedsecrets-mtrlz/build-safety-github-token", ForkBuildsFromTeam: true,
	})
	require.NoError(t, err)
	assert.Equal(t, want, env.Input("content"), "production follows the seed: a team member's fork may build")
	assert.Contains(t, env.Input("content"), "fork_builds_from_team='true'")
	token, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "secrets-build-safety-github-token")
	require.NoError(t, err, "the gate's membership token is uploaded")
	assert.True(t, token.IsSecret("content"))
}

func TestTrustingStack(t *testing.T) {
	opts := plantest.SecretsInStackOptions(t, "prod")
	opts.Config["ci-infra:trustedTeamMembers"] = `["alice","bob"]`
	opts.Config["ci-infra:trustedTeamMaintainers"] = `["carol"]`
	opts.Config["ci-infra:forkBuildsFromTeam"] = "true"
	opts.Config["ci-infra:repositories"] = `[{"name":"smokey","defaultBranch":"master","requiredChecks":["ci/circleci","pullapprove"],
		"deployBranch":"deploy","deployPushers":["/smokey-deployer"],
		"webhooks":[{"url":"https://deployer.example.com/github","events":["push","status"]}]}]`
	// The optional secrets this configuration needs, set as an operator
	// would (encrypted in the stack file, so secret to the program).
	secrets := map[string]string{
		"ci-infra:buildSafetyGithubToken": "test-value-of-build-safety-token",
		"ci-infra:webhookSecret":          "test-value-of-webhook-secret",
	}
	for key, value := range secrets {
		opts.Config[key] = value
		opts.Secrets = append(opts.Secrets, key)
	}
	p, err := plan.Run(Build, opts)
	require.NoError(t, err)

	members, err := p.Get("github:index/teamMembers:TeamMembers", "trusted-team-members")
	require.NoError(t, err)
	assert.Len(t, members.Input("members"), 3)

	token, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "secrets-build-safety-github-token")
	require.NoError(t, err)
	assert.True(t, token.IsSecret("content"))

	env, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "secrets-env")
	require.NoError(t, err)
	assert.Contains(t, env.Input("content"), "fork_builds_from_team='true'")

	_, err = p.Get("github:index/branchProtection:BranchProtection", "guardrails-smokey-deploy-branch")
	require.NoError(t, err)
	hook, err := p.Get("github:index/repositoryWebhook:RepositoryWebhook", "guardrails-smokey-webhook-0")
	require.NoError(t, err)
	assert.True(t, hook.IsSecret("configuration"))

	doc, err := json.Marshal(p.Document())
	require.NoError(t, err)
	for key, value := range secrets {
		assert.NotContains(t, string(doc), value, "the plan shows the value of %s", key)
	}
}

func TestProdGuardsThisRepositoryToo(t *testing.T) {
	p := prodPlan(t)
	rule, err := p.Get("github:index/branchProtection:BranchProtection", "guardrails-ci-infra-default-branch")
	require.NoError(t, err, "the infrastructure repository is guarded like the product")
	assert.Equal(t, "ci-infra", rule.Input("repositoryId"))
	assert.Equal(t, "main", rule.Input("pattern"))
	assert.Equal(t, true, rule.Input("enforceAdmins"))
	reviews := rule.Input("requiredPullRequestReviews").([]any)[0].(map[string]any)
	assert.GreaterOrEqual(t, reviews["requiredApprovingReviewCount"], float64(1))
	checks := rule.Input("requiredStatusChecks").([]any)[0].(map[string]any)
	assert.Equal(t, []any{"buildkite/ci-infra"}, checks["contexts"])
}
