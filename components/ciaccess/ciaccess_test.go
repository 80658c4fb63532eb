package ciaccess

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func allows(t *testing.T, policy string, claims map[string]string) bool {
	t.Helper()
	ok, err := Admits(policy, claims)
	require.NoError(t, err)
	return ok
}

// testScope is production's deploy scope, as stacks builds it.
// testPreview is what the tests' preview role reads: prod's types, its
// two objects and its state in an S3 backend.
var testPreview = PreviewScope{
	Types: []string{"aws:s3/bucketV2:BucketV2", "aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketPolicy:BucketPolicy",
		"aws:cloudformation/stack:Stack", "aws:iam/role:Role", "aws:cloudwatch/logGroup:LogGroup", "aws:ec2/vpc:Vpc",
		"aws:route53/zone:Zone", "ci-infra:storage:Bucket", "pulumi:providers:aws", "github:index/team:Team"},
	Objects: []string{"buildkite-config-x/bootstrap.sh", "buildkite-managedsecrets-x/env"},
	Project: "ci-infra",
}

var testScope = Scope{
	Region:          "us-east-1",
	Buckets:         []string{"buildkite-config-x", "buildkite-managedsecrets-x", "buildkite-managedsecrets-logs-x", "downloads.mtrlz.dev"},
	AgentPolicyName: "buildkite-agent",
	ParameterPath:   "/ci-infra/prod/",
	AgentStacks:     []string{"buildkite", "buildkite-builders"},
	TemplateURL:     "https://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml",
	AgentBoundaries: []string{"ci-infra-prod-agent-boundary", "ci-infra-prod-deploy-agent-boundary"},
	StateBackend:    "s3://state-x/ci?region=us-east-1",
	ZoneIDs:         []string{"Z0PRIVATEZONE"},
	Network: OwnNetwork{VpcID: "vpc-0own", RouteTableID: "rtb-0own", InternetGatewayID: "igw-0own", EndpointID: "vpce-0own",
		SubnetIDs: []string{"subnet-0owna", "subnet-0ownb"}},
}

// The Buildkite clusters of the tests: the deploy agents' own, and the
// default cluster every other agent registers with.
const (
	deployCluster  = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	defaultCluster = "0190ffff-0000-7000-8000-000000000000"
)

func accessPlan(t *testing.T, cluster string) *plan.Plan {
	return plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "ci-access", Args{
			Organization: "materialize", Pipeline: "ci-infra", PreviewPipeline: "ci-infra-checks", DeployBranch: "main", RoleNamePrefix: "ci-infra-prod",
			DeployClusterID:     cluster,
			SecretParametersARN: testScope.ParameterPathARN(),
			Deploy:              testScope,
			Preview:             testPreview,
		})
		return err
	}), nil)
}

func TestTrustPolicies(t *testing.T) {
	p := accessPlan(t, deployCluster)
	role := func(name string) string {
		r, err := p.Get("aws:iam/role:Role", name)
		require.NoError(t, err)
		return r.Input("assumeRolePolicy").(string)
	}
	preview, deploy := role("ci-access-preview-role"), role("ci-access-deploy-role")
	sub := func(org, pipeline, ref, step string) string {
		return "organization:" + org + ":pipeline:" + pipeline + ":ref:" + ref + ":commit:0123abcd:step:" + step
	}
	// Tokens of the deploy agents carry their cluster's ID as a session
	// tag, which Buildkite's server fills in.
	claims := func(aud, sub string) map[string]string {
		return map[string]string{"aud": aud, "sub": sub, "aws:RequestTag/" + ClusterTag: deployCluster}
	}
	// tagged replaces the session tags: what an agent of another cluster,
	// or one that asks for other claims, brings.
	tagged := func(tags map[string]string, c map[string]string) map[string]string {
		c = maps.Clone(c)
		delete(c, "aws:RequestTag/"+ClusterTag)
		for k, v := range tags {
			c["aws:RequestTag/"+k] = v
		}
		return c
	}
	mainDeploy := claims(Audience, sub("materialize", "ci-infra", "refs/heads/main", "deploy"))

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
		// A fork's pull request from a branch named main, with a step keyed
		// deploy, carries exactly these claims; on any agent outside the
		// deploy cluster it carries another cluster_id. A deploy agent
		// refuses it (the guard; stacks/deploy_test.go proves both together).
		{"deploy step of main on an agent of the default cluster", tagged(map[string]string{ClusterTag: defaultCluster}, mainDeploy), false, false},
		{"a stolen default token and a self-declared queue=deploy", tagged(map[string]string{ClusterTag: defaultCluster, "agent_tag:queue": "deploy"}, mainDeploy), false, false},
		{"a queue tag alone, as the roles used to trust", tagged(map[string]string{"agent_tag:queue": "deploy"}, mainDeploy), false, false},
		{"a cluster renamed to the deploy cluster's name", tagged(map[string]string{"cluster_name": "deploy"}, mainDeploy), false, false},
		{"deploy step of main without a cluster tag", tagged(nil, mainDeploy), false, false},
		{"preview step on an agent of the default cluster", tagged(map[string]string{ClusterTag: defaultCluster}, claims(Audience, sub("materialize", "ci-infra", "refs/heads/feature", "preview"))), false, false},
		// agent v3.137's --subject-claim lets a job ask for a bare UUID as
		// its sub; every trusted sub names organization and pipeline.
		{"a bare-UUID sub", claims(Audience, deployCluster), false, false},
		// The pull requests' pipeline: its preview step, on any ref and any
		// agent, gets the preview role, and nothing else does.
		{"a pull request's preview, default cluster", tagged(map[string]string{ClusterTag: defaultCluster}, claims(Audience, sub("materialize", "ci-infra-checks", "refs/heads/member:feature", "preview"))), true, false},
		{"a pull request's preview, no cluster tag", tagged(nil, claims(Audience, sub("materialize", "ci-infra-checks", "refs/heads/feature", "preview"))), true, false},
		{"a pull request's step keyed deploy", tagged(map[string]string{ClusterTag: defaultCluster}, claims(Audience, sub("materialize", "ci-infra-checks", "refs/heads/main", "deploy"))), false, false},
		{"a pull request's preview with another audience", tagged(nil, claims("https://example.com", sub("materialize", "ci-infra-checks", "refs/heads/feature", "preview"))), false, false},
		{"another pipeline's preview step", tagged(nil, claims(Audience, sub("materialize", "materialize", "refs/heads/feature", "preview"))), false, false},
		{"another organization's pull-request pipeline", tagged(nil, claims(Audience, sub("evil", "ci-infra-checks", "refs/heads/feature", "preview"))), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantPreview, allows(t, preview, tt.claims), "preview role")
			assert.Equal(t, tt.wantDep, allows(t, deploy, tt.claims), "deploy role")
		})
	}
}

// Until the operator names the deploy cluster, the roles trust no token
// Buildkite could issue: the cluster_id they require is not a UUID.
func TestNoDeployClusterTrustsNoToken(t *testing.T) {
	p := accessPlan(t, "")
	assert.False(t, ident.IsClusterID(NoCluster), "no token carries NoCluster")
	for _, name := range []string{"ci-access-preview-role", "ci-access-deploy-role"} {
		r, err := p.Get("aws:iam/role:Role", name)
		require.NoError(t, err)
		for _, cluster := range []string{deployCluster, defaultCluster, ""} {
			c := map[string]string{"aud": Audience, "sub": "organization:materialize:pipeline:ci-infra:ref:refs/heads/main:commit:0123abcd:step:" + strings.TrimSuffix(strings.TrimPrefix(name, "ci-access-"), "-role")}
			if cluster != "" {
				c["aws:RequestTag/"+ClusterTag] = cluster
			}
			assert.False(t, allows(t, r.Input("assumeRolePolicy").(string), c), "%s admits a token of cluster %q", name, cluster)
		}
	}
}

func TestProviderAndPermissions(t *testing.T) {
	p := accessPlan(t, deployCluster)
	provider, err := p.Get("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "ci-access-oidc-provider")
	require.NoError(t, err)
	assert.Equal(t, "https://agent.buildkite.com", provider.Input("url"))
	assert.Equal(t, []any{"sts.amazonaws.com"}, provider.Input("clientIdLists"))

	assert.Empty(t, p.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", ""),
		"no managed policy: no AdministratorAccess for the deploy role, no ReadOnlyAccess for the preview role, each has its own")
	reads, err := p.Get("aws:iam/rolePolicy:RolePolicy", "ci-access-preview-reads")
	require.NoError(t, err)
	want, err := PreviewPolicy(testScope, testPreview)
	require.NoError(t, err)
	wantJSON, err := want.JSON()
	require.NoError(t, err)
	assert.Equal(t, wantJSON, reads.Input("policy"))

	deny, err := p.Get("aws:iam/rolePolicy:RolePolicy", "ci-access-preview-no-secrets")
	require.NoError(t, err)
	var doc struct {
		Statement []struct {
			Effect           string
			Action, Resource []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(deny.Input("policy").(string)), &doc))
	require.Len(t, doc.Statement, 5, "TestThePreviewRoleReadsNoSecret says what each denies")
	for _, st := range doc.Statement {
		assert.Equal(t, "Deny", st.Effect)
	}
	assert.Contains(t, doc.Statement[1].Action, "ssm:GetParameter")
}

func TestInvalidArgs(t *testing.T) {
	valid := func() Args {
		return Args{Organization: "materialize", Pipeline: "ci-infra", DeployBranch: "main", RoleNamePrefix: "x", DeployClusterID: deployCluster,
			SecretParametersARN: "arn:aws:ssm:us-east-1:*:parameter/t/*",
			Deploy:              testScope, Preview: testPreview}
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
		{"no secrets named", mod(func(a *Args) { a.SecretParametersARN = "" }), "must be denied them"},
		{"a type whose reads are unknown", mod(func(a *Args) { a.Preview.Types = append(a.Preview.Types, "aws:lambda/function:Function") }),
			"does not know what a refresh of aws:lambda/function:Function reads"},
		{"a state backend that is not S3", mod(func(a *Args) { a.Deploy.StateBackend = "https://api.pulumi.com" }), "not an S3 state backend URL"},
		{"no deploy scope", mod(func(a *Args) { a.Deploy = Scope{} }), "may touch only what is named"},
		{"deploy cluster not a UUID", mod(func(a *Args) { a.DeployClusterID = "deploy" }), "must be a Buildkite cluster ID"},
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
