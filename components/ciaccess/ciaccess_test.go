package ciaccess

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/plantest"
)

// allows evaluates a trust policy the way STS does for the conditions it
// uses: every StringEquals must match exactly, every StringLike as a glob
// (* any run of characters, ? one character).
func allows(t *testing.T, policy string, claims map[string]string) bool {
	t.Helper()
	var doc struct {
		Statement []struct {
			Effect    string
			Action    []string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(policy), &doc))
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || len(st.Action) != 1 || st.Action[0] != "sts:AssumeRoleWithWebIdentity" {
			continue
		}
		ok := true
		for op, conds := range st.Condition {
			for key, want := range conds {
				got, present := claims[strings.TrimPrefix(key, claimPrefix+":")]
				switch op {
				case "StringEquals":
					ok = ok && present && got == want
				case "StringLike":
					ok = ok && present && glob(want).MatchString(got)
				default:
					t.Fatalf("unexpected condition operator %s", op)
				}
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func glob(pattern string) *regexp.Regexp {
	var b strings.Builder
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return regexp.MustCompile("^" + b.String() + "$")
}

func accessPlan(t *testing.T) *plan.Plan {
	return plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "ci-access", Args{
			Organization: "materialize", Pipeline: "ci-infra", DeployBranch: "main", RoleNamePrefix: "ci-infra-prod",
			SecretObjectsARN:   "arn:aws:s3:::buildkite-managedsecrets-x/*",
			SecretParameterARN: pulumi.String("arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod/buildkite-agent-token"),
		})
		return err
	}), nil)
}

func TestTrustPolicies(t *testing.T) {
	p := accessPlan(t)
	role := func(name string) string {
		r, err := p.Get("aws:iam/role:Role", name)
		require.NoError(t, err)
		return r.Input("assumeRolePolicy").(string)
	}
	preview, deploy := role("ci-access-preview-role"), role("ci-access-deploy-role")
	sub := func(org, pipeline, ref, step string) string {
		return "organization:" + org + ":pipeline:" + pipeline + ":ref:" + ref + ":commit:0123abcd:step:" + step
	}
	claims := func(aud, sub string) map[string]string { return map[string]string{"aud": aud, "sub": sub} }

	tests := []struct {
		name                 string
		claims               map[string]string
		wantPreview, wantDep bool
	}{
		{"preview step of a branch build", claims(Audience, sub("materialize", "ci-infra", "refs/heads/feature", "preview")), true, false},
		{"preview step of main", claims(Audience, sub("materialize", "ci-infra", "refs/heads/main", "preview")), true, false},
		{"deploy step of main", claims(Audience, sub("materialize", "ci-infra", "refs/heads/main", "deploy")), false, true},
		{"deploy step of another branch", claims(Audience, sub("materialize", "ci-infra", "refs/heads/feature", "deploy")), false, false},
		{"deploy step of a branch named like main", claims(Audience, sub("materialize", "ci-infra", "refs/heads/main-evil", "deploy")), false, false},
		{"another step of main", claims(Audience, sub("materialize", "ci-infra", "refs/heads/main", "test")), false, false},
		{"wrong pipeline", claims(Audience, sub("materialize", "materialize", "refs/heads/main", "deploy")), false, false},
		{"wrong organization", claims(Audience, sub("evil", "ci-infra", "refs/heads/main", "deploy")), false, false},
		{"wrong audience", claims("https://example.com", sub("materialize", "ci-infra", "refs/heads/main", "deploy")), false, false},
		{"no audience", map[string]string{"sub": sub("materialize", "ci-infra", "refs/heads/main", "deploy")}, false, false},
		{"a tag, not a branch", claims(Audience, sub("materialize", "ci-infra", "refs/tags/v1", "preview")), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantPreview, allows(t, preview, tt.claims), "preview role")
			assert.Equal(t, tt.wantDep, allows(t, deploy, tt.claims), "deploy role")
		})
	}
}

func TestProviderAndPermissions(t *testing.T) {
	p := accessPlan(t)
	provider, err := p.Get("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "ci-access-oidc-provider")
	require.NoError(t, err)
	assert.Equal(t, "https://agent.buildkite.com", provider.Input("url"))
	assert.Equal(t, []any{"sts.amazonaws.com"}, provider.Input("clientIdLists"))

	attached := map[string]any{}
	for _, a := range p.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "") {
		attached[a.Name] = a.Input("policyArn")
	}
	assert.Equal(t, map[string]any{
		"ci-access-preview-read-only": "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"ci-access-deploy-admin":      "arn:aws:iam::aws:policy/AdministratorAccess",
	}, attached)

	deny, err := p.Get("aws:iam/rolePolicy:RolePolicy", "ci-access-preview-no-secrets")
	require.NoError(t, err)
	var doc struct {
		Statement []struct {
			Effect           string
			Action, Resource []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(deny.Input("policy").(string)), &doc))
	require.Len(t, doc.Statement, 2)
	for _, st := range doc.Statement {
		assert.Equal(t, "Deny", st.Effect)
	}
	assert.Equal(t, []string{"arn:aws:s3:::buildkite-managedsecrets-x/*"}, doc.Statement[0].Resource)
	assert.Contains(t, doc.Statement[1].Action, "ssm:GetParameter")
}

func TestInvalidArgs(t *testing.T) {
	valid := func() Args {
		return Args{Organization: "materialize", Pipeline: "ci-infra", DeployBranch: "main", RoleNamePrefix: "x",
			SecretObjectsARN: "arn:aws:s3:::b/*", SecretParameterARN: pulumi.String("arn:aws:ssm:us-east-1:123456789012:parameter/t")}
	}
	mod := func(f func(*Args)) Args { a := valid(); f(&a); return a }
	tests := []struct {
		name    string
		args    Args
		wantErr string
	}{
		{"org not a slug", mod(func(a *Args) { a.Organization = "Materialize Inc" }), `organization "Materialize Inc" must be a slug`},
		{"pipeline with a wildcard", mod(func(a *Args) { a.Pipeline = "ci-*" }), `pipeline "ci-*" must be a slug`},
		{"no deploy branch", mod(func(a *Args) { a.DeployBranch = "" }), "deploy branch"},
		{"role prefix too long", mod(func(a *Args) { a.RoleNamePrefix = strings.Repeat("x", 49) }), "RoleNamePrefix"},
		{"no secrets named", mod(func(a *Args) { a.SecretObjectsARN, a.SecretParameterARN = "", nil }), "must be denied them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plantest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "a", tt.args)
				return err
			}, tt.wantErr)
		})
	}
}
