package policies

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// prodInputs are prod's resources as the analyzer sees them, read from the
// committed plan (cmd/plan keeps it equal to what the program plans).
func prodInputs(t *testing.T) []Input {
	t.Helper()
	raw := testenv.ProdPlan(t)
	p, err := plan.ReadDocument(raw)
	require.NoError(t, err)
	// And the secrets stack's, which writes prod's tokens and secret
	// objects: the pack checks both stacks.
	var doc struct {
		SecretsStack json.RawMessage `json:"secretsStack"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.SecretsStack, "the committed plan has prod's secrets stack")
	secrets, err := plan.ReadDocument(doc.SecretsStack)
	require.NoError(t, err)
	return append(Inputs(p), Inputs(secrets)...)
}

func load(t *testing.T) *Pack {
	t.Helper()
	pack, err := Load(context.Background())
	require.NoError(t, err)
	return pack
}

// copyInputs deep-copies resources so that a test can break one thing.
func copyInputs(t *testing.T, in []Input) []Input {
	raw, err := json.Marshal(in)
	require.NoError(t, err)
	var out []Input
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

func named(t *testing.T, ins []Input, name string) Input {
	for _, in := range ins {
		if in["__name"] == name {
			return in
		}
	}
	t.Fatalf("no resource named %s", name)
	return nil
}

func without(ins []Input, name string) []Input {
	return slices.DeleteFunc(ins, func(in Input) bool { return in["__name"] == name })
}

// set changes a property the way the analyzer would see it: at the top
// level and under __properties.
func set(in Input, key string, value any) {
	in[key] = value
	in["__properties"].(map[string]any)[key] = value
}

// withParam is the mutation that sets (or, with nil, removes) one parameter
// of the named agent stack.
func withParam(resource, name string, value any) func(*testing.T, []Input) []Input {
	return func(t *testing.T, ins []Input) []Input {
		param(named(t, ins, resource), name, value)
		return ins
	}
}

// withInput is the mutation that sets one input of the named resource.
func withInput(resource, key string, value any) func(*testing.T, []Input) []Input {
	return func(t *testing.T, ins []Input) []Input {
		set(named(t, ins, resource), key, value)
		return ins
	}
}

func param(in Input, name string, value any) {
	params := in["parameters"].(map[string]any)
	if value == nil {
		delete(params, name)
	} else {
		params[name] = value
	}
	set(in, "parameters", params)
}

// editPolicy rewrites the JSON policy document of a resource.
func editPolicy(t *testing.T, in Input, edit func(doc map[string]any)) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(in["policy"].(string)), &doc))
	edit(doc)
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	set(in, "policy", string(raw))
}

// evaluator returns Pack.Evaluate with each resource's violations
// remembered by the resource's content. A resource rule sees one resource
// only, so a mutation costs the evaluation of what it changed and of the
// stack rules, not of all prod's resources again.
func evaluator(pack *Pack) func(*testing.T, []Input) []Violation {
	seen := map[string][]Violation{}
	return func(t *testing.T, ins []Input) []Violation {
		t.Helper()
		ctx := context.Background()
		var out []Violation
		for _, in := range ins {
			key, err := json.Marshal(in)
			require.NoError(t, err)
			vs, ok := seen[string(key)]
			if !ok {
				vs, err = pack.EvaluateResource(ctx, in)
				require.NoError(t, err)
				seen[string(key)] = vs
			}
			out = append(out, vs...)
		}
		vs, err := pack.EvaluateStack(ctx, ins)
		require.NoError(t, err)
		return append(out, vs...)
	}
}

// withoutStatement drops the statement with the given Sid.
func withoutStatement(statements []any, sid string) []any {
	var out []any
	for _, st := range statements {
		if st.(map[string]any)["Sid"] != sid {
			out = append(out, st)
		}
	}
	return out
}

func newResource(typ, name string, props map[string]any) Input {
	in := Input{"__type": typ, "__name": name, "__urn": "urn:pulumi:prod::ci-infra::" + typ + "::" + name,
		"__options": map[string]any{"protect": false}, "__provider": "", "__properties": props,
		"dependencies": []any{}, "propertyDependencies": map[string]any{}}
	for k, v := range props {
		in[k] = v
	}
	return in
}

func TestProdPassesEveryMandatoryRule(t *testing.T) {
	vs, err := load(t).Evaluate(context.Background(), prodInputs(t))
	require.NoError(t, err)
	assert.Empty(t, MandatoryOf(vs))
	var rules []string
	for _, v := range vs {
		rules = append(rules, v.Rule)
	}
	assert.Equal(t, []string{"stack_warn_trusted_team_empty"}, rules, "the seed names no trusted people")
}

func TestEachRuleFiresAlone(t *testing.T) {
	pack := load(t)
	baseline := prodInputs(t)
	publicStatement := map[string]any{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::buildkite-config-mtrlz/*"}
	tests := []struct {
		rule   string
		break_ func(t *testing.T, ins []Input) []Input
	}{
		{"stack_deny_bucket_public_access_block", func(t *testing.T, ins []Input) []Input { return without(ins, "config-public-access-block") }},
		{"deny_bucket_public_acls", withInput("secrets-public-access-block", "ignorePublicAcls", false)},
		{"stack_deny_bucket_public_policy", withInput("config-public-access-block", "blockPublicPolicy", false)},
		{"stack_deny_bucket_public_actions", func(t *testing.T, ins []Input) []Input { // a private bucket made public
			editPolicy(t, named(t, ins, "config-policy"), func(doc map[string]any) {
				doc["Statement"] = append(doc["Statement"].([]any), publicStatement)
			})
			return ins
		}},
		{"stack_deny_bucket_acls_enabled", withInput("config-ownership", "rule", map[string]any{"objectOwnership": "BucketOwnerPreferred"})},
		{"deny_bucket_acl", func(t *testing.T, ins []Input) []Input {
			return append(ins, newResource("aws:s3/bucketAclV2:BucketAclV2", "downloads-acl", map[string]any{"acl": "public-read"}))
		}},
		{"stack_deny_bucket_unencrypted", func(t *testing.T, ins []Input) []Input { return without(ins, "secrets-encryption") }},
		{"stack_deny_bucket_unversioned", withInput("secrets-versioning", "versioningConfiguration", map[string]any{"status": "Suspended"})},
		{"stack_deny_bucket_insecure_transport", func(t *testing.T, ins []Input) []Input {
			editPolicy(t, named(t, ins, "downloads-policy"), func(doc map[string]any) {
				doc["Statement"] = slices.DeleteFunc(doc["Statement"].([]any), func(s any) bool { return s.(map[string]any)["Effect"] == "Deny" })
			})
			return ins
		}},
		{"stack_deny_secrets_bucket_unlogged", func(t *testing.T, ins []Input) []Input { return without(ins, "secrets-access-logs") }},
		{"deny_bucket_role", func(t *testing.T, ins []Input) []Input {
			b := named(t, ins, "secrets-logs-bucket")
			tags := b["tags"].(map[string]any)
			delete(tags, "role")
			set(b, "tags", tags)
			return ins
		}},
		{"deny_agent_stack_signs", withParam("deploy-agents-stack", "PipelineSigningKMSAccess", "sign-and-verify")},
		{"deny_agent_stack_without_boundary", withParam("agents-stack", "InstanceRolePermissionsBoundaryARN", nil)},
		{"deny_iam_wildcard_action", func(t *testing.T, ins []Input) []Input {
			return append(ins, newResource("aws:iam/policy:Policy", "extra-policy", map[string]any{
				"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}))
		}},
		{"deny_cloudfront_http", func(t *testing.T, ins []Input) []Input {
			d := named(t, ins, "downloads-site-distribution")
			d["defaultCacheBehavior"].(map[string]any)["viewerProtocolPolicy"] = "allow-all"
			return ins
		}},
		{"deny_cloudfront_tls", func(t *testing.T, ins []Input) []Input {
			d := named(t, ins, "downloads-site-distribution")
			d["viewerCertificate"] = map[string]any{"acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x", "minimumProtocolVersion": "TLSv1"}
			return ins
		}},
		{"stack_deny_cloudfront_logging", func(t *testing.T, ins []Input) []Input {
			var out []Input
			for _, in := range ins {
				if in["__type"] != "aws:cloudwatch/logDeliverySource:LogDeliverySource" {
					out = append(out, in)
				}
			}
			return out
		}},
		{"deny_cloudfront_public_origin", func(t *testing.T, ins []Input) []Input {
			d := named(t, ins, "downloads-site-distribution")
			delete(d["origins"].([]any)[0].(map[string]any), "originAccessControlId")
			return ins
		}},
		{"deny_iam_admin_attachment", func(t *testing.T, ins []Input) []Input {
			return append(ins, newResource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ci-access-deploy-admin", map[string]any{
				"role": "ci-infra-prod-deploy", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
		}},
		{"deny_deploy_role_self_change", func(t *testing.T, ins []Input) []Input { // the deploy role may write its own policy again
			editPolicy(t, named(t, ins, "ci-access-deploy-scope"), func(doc map[string]any) {
				doc["Statement"] = withoutStatement(doc["Statement"].([]any), "NotItselfNorTheServiceRole")
			})
			return ins
		}},
		{"deny_deploy_role_unbounded_roles", func(t *testing.T, ins []Input) []Input { // roles without the boundary
			editPolicy(t, named(t, ins, "ci-access-deploy-scope"), func(doc map[string]any) {
				doc["Statement"] = withoutStatement(doc["Statement"].([]any), "OnlyBoundedRoles")
			})
			return ins
		}},
		{"deny_ci_role_without_boundary", func(t *testing.T, ins []Input) []Input {
			delete(named(t, ins, "ci-access-preview-role"), "permissionsBoundary")
			return ins
		}},
		{"deny_service_role_attaches_any_policy", func(t *testing.T, ins []Input) []Input { // ManagedPolicyARNs reaches any policy
			editPolicy(t, named(t, ins, "ci-access-stack-service"), func(doc map[string]any) {
				doc["Statement"] = withoutStatement(doc["Statement"].([]any), "AttachOnlyTheAgentPolicy")
			})
			return ins
		}},
		{"deny_iam_iam_wildcard", func(t *testing.T, ins []Input) []Input {
			return append(ins, newResource("aws:iam/policy:Policy", "extra-policy", map[string]any{
				"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*"],"Resource":"*"}]}`}))
		}},
		{"deny_agent_policy_scope", func(t *testing.T, ins []Input) []Input { // an action widened to s3:*
			editPolicy(t, named(t, ins, "agent-policy-policy"), func(doc map[string]any) {
				doc["Statement"].([]any)[0].(map[string]any)["Action"] = []any{"s3:*"}
			})
			return ins
		}},
		{"deny_agent_stack_template_unpinned", withInput("agents-stack", "templateUrl", "https://s3.amazonaws.com/buildkite-aws-stack/latest/aws-stack.yml")},
		{"deny_agent_stack_imdsv1", func(t *testing.T, ins []Input) []Input { // IMDSv2 made optional
			param(named(t, ins, "builders-stack"), "IMDSv2Tokens", "optional")
			return ins
		}},
		{"deny_agent_stack_root_volume_unencrypted", withParam("agents-stack", "RootVolumeEncrypted", nil)},
		{"deny_agent_stack_plaintext_token", withParam("agents-stack", "BuildkiteAgentToken", "bkua_not_a_real_token")},
		{"deny_agent_stack_instance_type", withParam("agents-stack", "InstanceTypes", "c5.2xlarge,p4d.24xlarge")},
		{"deny_agent_stack_max_size", withParam("agents-stack", "MaxSize", "100")}, // the fleet more than doubled
		{"deny_agent_stack_ssh", withParam("builders-stack", "KeyName", "ops")},
		{"deny_stateful_unprotected", func(t *testing.T, ins []Input) []Input { // protection removed
			named(t, ins, "internal-zone-zone")["__options"].(map[string]any)["protect"] = false
			return ins
		}},
		{"deny_team_not_closed", withInput("trusted-team-team", "privacy", "secret")},
		{"deny_branch_protection_weak", withInput("guardrails-materialize-default-branch", "requiredPullRequestReviews", []any{map[string]any{"requiredApprovingReviewCount": 0}})},
		{"deny_plaintext_secret", withInput("agent-token-parameter", "value", "plaintext-token")},
	}

	covered := map[string]bool{"stack_warn_trusted_team_empty": true} // proven by TestTrustedTeamWarning
	eval := evaluator(pack)
	before := eval(t, baseline)
	for _, tt := range tests {
		covered[tt.rule] = true
		t.Run(tt.rule, func(t *testing.T) {
			after := eval(t, tt.break_(t, copyInputs(t, baseline)))
			var fired []string
			for _, v := range after {
				if !slices.Contains(before, v) && !slices.Contains(fired, v.Rule) {
					fired = append(fired, v.Rule)
				}
			}
			assert.Equal(t, []string{tt.rule}, fired, "exactly this rule reports the fault")
		})
	}
	for _, rule := range pack.Rules {
		assert.True(t, covered[rule], "rule %s has no test that proves it fires", rule)
	}
}

func TestTrustedTeamWarning(t *testing.T) {
	pack := load(t)
	ins := prodInputs(t)
	team := named(t, ins, "trusted-team-team")
	vs, err := pack.Evaluate(context.Background(), ins)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, Advisory, vs[0].Level)

	members := newResource("github:index/teamMembers:TeamMembers", "trusted-team-members", map[string]any{"members": []any{}})
	members["propertyDependencies"] = map[string]any{"teamId": []any{team["__urn"]}}
	vs, err = pack.Evaluate(context.Background(), append(ins, members))
	require.NoError(t, err)
	assert.Empty(t, vs)
}

func TestSecretsReachTheRulesWrapped(t *testing.T) {
	param := named(t, prodInputs(t), "agent-token-parameter")
	v, ok := param["value"].(map[string]any)
	require.True(t, ok, "a secret arrives as {Element: {V: ...}}")
	assert.Contains(t, v, "Element")
}

func TestGeneratedRegoComesFromTheGoTables(t *testing.T) {
	testenv.GoldenFile(t, "generated.rego", []byte(GeneratedRego()))
}
