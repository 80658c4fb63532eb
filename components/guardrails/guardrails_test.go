package guardrails

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestDefaultBranchProtection(t *testing.T) {
	p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "g", Args{Repository: "materialize", DefaultBranch: "master", RequiredChecks: []string{"buildkite/test"}})
		return err
	}), nil)
	bp, err := p.Get("github:index/branchProtection:BranchProtection", "g-default-branch")
	require.NoError(t, err)
	assert.Equal(t, "materialize", bp.Input("repositoryId"))
	assert.Equal(t, "master", bp.Input("pattern"))
	assert.Equal(t, []any{map[string]any{"strict": true, "contexts": []any{"buildkite/test"}}}, bp.Input("requiredStatusChecks"))
	assert.Equal(t, []any{map[string]any{"requiredApprovingReviewCount": 1.0, "dismissStaleReviews": true}}, bp.Input("requiredPullRequestReviews"))
	assert.Equal(t, true, bp.Input("enforceAdmins"))
	assert.Equal(t, false, bp.Input("allowsForcePushes"))
	assert.Equal(t, false, bp.Input("allowsDeletions"))
	assert.Empty(t, p.Find("github:index/repositoryWebhook:RepositoryWebhook", ""))
	assert.Len(t, p.Find("github:index/branchProtection:BranchProtection", ""), 1, "no deploy branch unless asked")
}

func TestDeployBranchAndWebhooks(t *testing.T) {
	p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "g", Args{
			Repository: "smokey", DefaultBranch: "master", RequiredChecks: []string{"ci/circleci", "pullapprove"},
			RequiredApprovals: 2,
			DeployBranch:      "deploy", DeployPushers: []string{"/deploy-bot"},
			Webhooks: []Webhook{{URL: "https://deployer.example.com/github", Events: []string{"push", "status"}, Secret: pulumi.String("not-a-real-secret")}},
		})
		return err
	}), nil)
	def, err := p.Get("github:index/branchProtection:BranchProtection", "g-default-branch")
	require.NoError(t, err)
	assert.Equal(t, 2.0, def.Input("requiredPullRequestReviews").([]any)[0].(map[string]any)["requiredApprovingReviewCount"])

	deploy, err := p.Get("github:index/branchProtection:BranchProtection", "g-deploy-branch")
	require.NoError(t, err)
	assert.Equal(t, "deploy", deploy.Input("pattern"))
	assert.Equal(t, []any{map[string]any{"pushAllowances": []any{"/deploy-bot"}, "blocksCreations": true}}, deploy.Input("restrictPushes"))
	assert.Equal(t, true, deploy.Input("enforceAdmins"), "admins cannot move deploy by hand either")
	assert.Equal(t, false, deploy.Input("allowsForcePushes"))

	hook, err := p.Get("github:index/repositoryWebhook:RepositoryWebhook", "g-webhook-0")
	require.NoError(t, err)
	assert.Equal(t, []any{"push", "status"}, hook.Input("events"))
	assert.Equal(t, "https://deployer.example.com/github", hook.Input("configuration.url"))
	assert.Equal(t, "json", hook.Input("configuration.contentType"))
	assert.Equal(t, false, hook.Input("configuration.insecureSsl"))
	assert.True(t, hook.IsSecret("configuration"), "the signing secret is secret in state even from a plain input")
}

func TestInvalidArgs(t *testing.T) {
	secret := pulumi.String("s")
	base := func() Args {
		return Args{Repository: "r", DefaultBranch: "main", RequiredChecks: []string{"ci"}}
	}
	mod := func(f func(*Args)) Args { a := base(); f(&a); return a }
	tests := []struct {
		name    string
		args    Args
		wantErr string
	}{
		{"no checks", mod(func(a *Args) { a.RequiredChecks = nil }), "at least one required status check"},
		{"bad repo", mod(func(a *Args) { a.Repository = "a b" }), "repository name"},
		{"too many approvals", mod(func(a *Args) { a.RequiredApprovals = 7 }), "1 to 6"},
		{"deploy branch without pushers", mod(func(a *Args) { a.DeployBranch = "deploy" }), "needs at least one pusher"},
		{"pushers without deploy branch", mod(func(a *Args) { a.DeployPushers = []string{"/bot"} }), "no deploy branch"},
		{"deploy is the default branch", mod(func(a *Args) { a.DeployBranch, a.DeployPushers = "main", []string{"/bot"} }), "must differ"},
		{"pusher not an actor", mod(func(a *Args) { a.DeployBranch, a.DeployPushers = "deploy", []string{"bot;rm"} }), "deploy pusher"},
		{"webhook over http", mod(func(a *Args) {
			a.Webhooks = []Webhook{{URL: "http://deployer.example.com", Events: []string{"push"}, Secret: secret}}
		}), "must use https"},
		{"webhook with credentials", mod(func(a *Args) {
			a.Webhooks = []Webhook{{URL: "https://u:p@deployer.example.com", Events: []string{"push"}, Secret: secret}}
		}), "credentials"},
		{"webhook unknown event", mod(func(a *Args) {
			a.Webhooks = []Webhook{{URL: "https://d.example.com", Events: []string{"member"}, Secret: secret}}
		}), "is not one of"},
		{"webhook without secret", mod(func(a *Args) {
			a.Webhooks = []Webhook{{URL: "https://d.example.com", Events: []string{"push"}}}
		}), "needs a secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plantest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "g", tt.args)
				return err
			}, tt.wantErr)
		})
	}
}
