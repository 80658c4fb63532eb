package ciaccess

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/policydoc"
)

// request is one AWS API call, as IAM evaluates it.
type request struct {
	action, resource string
	context          map[string]string // condition keys
}

// permits evaluates an identity policy as IAM does (policydoc.Permits).
func permits(t *testing.T, policy string, r request) bool {
	t.Helper()
	ok, err := policydoc.Permits(policy, r.action, r.resource, r.context)
	require.NoError(t, err)
	return ok
}

func TestDeployRoleTouchesOnlyWhatTheProgramManages(t *testing.T) {
	const serviceRole = "arn:aws:iam::123456789012:role/ci-infra-prod-agent-stacks"
	doc, err := DeployPolicy(testScope, "ci-infra-prod", serviceRole).JSON()
	require.NoError(t, err)
	pinned := map[string]string{"cloudformation:TemplateUrl": testScope.TemplateURL, "cloudformation:RoleArn": serviceRole}
	const (
		deployRole  = "arn:aws:iam::123456789012:role/ci-infra-prod-deploy"
		preview     = "arn:aws:iam::123456789012:role/ci-infra-prod-preview"
		publish     = "arn:aws:iam::123456789012:role/ci-infra-prod-publish"
		adminARN    = "arn:aws:iam::aws:policy/AdministratorAccess"
		agentPolicy = "arn:aws:iam::123456789012:policy/buildkite-agent"
	)
	// iam:PermissionsBoundary as IAM sets it: the boundary a role carries,
	// or the one a CreateRole or PutRolePermissionsBoundary asks for.
	readOnlyBoundary := map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
	publishBoundary := map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/ci-infra-prod-publish-boundary"}
	ec2ARN := func(resource string) string { return "arn:aws:ec2:us-east-1:123456789012:" + resource }
	tests := []struct {
		name string
		req  request
		want bool
	}{
		{"write the bootstrap script", request{"s3:PutObject", "arn:aws:s3:::buildkite-config-x/bootstrap.sh", nil}, true},
		{"configure the downloads bucket", request{"s3:PutBucketPolicy", "arn:aws:s3:::downloads.mtrlz.dev", nil}, true},
		{"read another bucket", request{"s3:GetObject", "arn:aws:s3:::someone-elses-bucket/data", nil}, false},
		{"update an agent stack from the pinned template with the service role", request{"cloudformation:UpdateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/buildkite-builders/abc", pinned}, true},
		{"update an agent stack from another template", request{"cloudformation:UpdateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/buildkite/abc",
			map[string]string{"cloudformation:TemplateUrl": "https://evil.example.com/admin.yml", "cloudformation:RoleArn": serviceRole}}, false},
		{"update an agent stack without the service role", request{"cloudformation:UpdateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/buildkite/abc",
			map[string]string{"cloudformation:TemplateUrl": testScope.TemplateURL}}, false},
		{"create a stack of another name", request{"cloudformation:CreateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/admin-maker/abc", pinned}, false},
		{"pass the service role to CloudFormation", request{"iam:PassRole", serviceRole, map[string]string{"iam:PassedToService": "cloudformation.amazonaws.com"}}, true},
		{"pass the service role to EC2", request{"iam:PassRole", serviceRole, map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}}, false},
		{"tag the preview role, which carries its boundary", request{"iam:TagRole", preview, readOnlyBoundary}, true},
		{"create the preview role with its boundary", request{"iam:CreateRole", preview, readOnlyBoundary}, true},
		{"attach a policy to the publish role, which carries its boundary", request{"iam:AttachRolePolicy", publish, publishBoundary}, true},
		// Every way the deploy role could raise itself (issue: a deploy role
		// that cannot raise itself).
		{"put an admin policy on itself", request{"iam:PutRolePolicy", deployRole, nil}, false},
		{"attach AdministratorAccess to itself", request{"iam:AttachRolePolicy", deployRole, map[string]string{"iam:PolicyARN": adminARN}}, false},
		{"change its own trust", request{"iam:UpdateAssumeRolePolicy", deployRole, nil}, false},
		{"give itself a boundary it chose", request{"iam:PutRolePermissionsBoundary", deployRole, readOnlyBoundary}, false},
		{"put a policy on the service role", request{"iam:PutRolePolicy", serviceRole, nil}, false},
		{"attach AdministratorAccess to the service role", request{"iam:AttachRolePolicy", serviceRole, map[string]string{"iam:PolicyARN": adminARN}}, false},
		{"change the service role's trust", request{"iam:UpdateAssumeRolePolicy", serviceRole, nil}, false},
		{"create a role of its prefix, even bounded", request{"iam:CreateRole", "arn:aws:iam::123456789012:role/ci-infra-prod-escalate", readOnlyBoundary}, false},
		{"create the preview role without a boundary", request{"iam:CreateRole", preview, nil}, false},
		{"create the preview role with an admin boundary", request{"iam:CreateRole", preview, map[string]string{"iam:PermissionsBoundary": adminARN}}, false},
		{"change the preview role's trust", request{"iam:UpdateAssumeRolePolicy", preview, nil}, false},
		{"delete the preview role, to create it again with another trust", request{"iam:DeleteRole", preview, readOnlyBoundary}, false},
		{"remove the preview role's boundary", request{"iam:DeleteRolePermissionsBoundary", preview, readOnlyBoundary}, false},
		{"swap the preview role's boundary for AdministratorAccess", request{"iam:PutRolePermissionsBoundary", preview, map[string]string{"iam:PermissionsBoundary": adminARN}}, false},
		{"put a policy on a role that lost its boundary", request{"iam:PutRolePolicy", preview, nil}, false},
		{"rewrite the publish role's boundary", request{"iam:CreatePolicyVersion", publishBoundary["iam:PermissionsBoundary"], nil}, false},
		{"delete the publish role's boundary", request{"iam:DeletePolicy", publishBoundary["iam:PermissionsBoundary"], nil}, false},
		{"rewrite the agents' instance boundary", request{"iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/ci-infra-prod-agent-boundary", nil}, false},
		{"make a rewritten deploy agents' boundary the default", request{"iam:SetDefaultPolicyVersion", "arn:aws:iam::123456789012:policy/ci-infra-prod-deploy-agent-boundary", nil}, false},
		{"create an administrator role", request{"iam:CreateRole", "arn:aws:iam::123456789012:role/break-glass-admin", nil}, false},
		// Issue 28: the ways up that the policy above still left open.
		{"write a new version of the agent policy, attached to every instance role", request{"iam:CreatePolicyVersion", agentPolicy, nil}, false},
		{"make an older version of the agent policy the default", request{"iam:SetDefaultPolicyVersion", agentPolicy, nil}, false},
		{"delete the agent policy, to create it again", request{"iam:DeletePolicy", agentPolicy, nil}, false},
		{"attach the agent policy to the publish role", request{"iam:AttachRolePolicy", publish, map[string]string{"iam:PolicyARN": agentPolicy, "iam:PermissionsBoundary": publishBoundary["iam:PermissionsBoundary"]}}, false},
		{"create a stack of a new buildkite-* name from the pinned template", request{"cloudformation:CreateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/buildkite-x/abc", pinned}, false},
		{"update a stack of a new buildkite-* name", request{"cloudformation:UpdateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/buildkite-builders-x/abc", pinned}, false},
		{"a change set on another stack", request{"cloudformation:CreateChangeSet", "arn:aws:cloudformation:us-east-1:123456789012:stack/admin-maker/abc", pinned}, false},
		{"create an agent stack of its own name", request{"cloudformation:CreateStack", "arn:aws:cloudformation:us-east-1:123456789012:stack/buildkite/abc", pinned}, true},
		{"delete the preview role's deny policy", request{"iam:DeleteRolePolicy", preview, readOnlyBoundary}, false},
		{"rewrite the preview role's deny policy", request{"iam:PutRolePolicy", preview, readOnlyBoundary}, false},
		{"detach ReadOnlyAccess from the preview role", request{"iam:DetachRolePolicy", preview, readOnlyBoundary}, false},
		{"attach a policy to a user", request{"iam:AttachUserPolicy", "arn:aws:iam::123456789012:user/mallory", nil}, false},
		{"write the agent token", request{"ssm:PutParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod/buildkite-agent-token", nil}, true},
		{"read another stack's parameters", request{"ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/other/secret", nil}, false},
		{"run instances itself", request{"ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*", nil}, false},
		// Issue 28: zones by ID, the state under its prefix.
		{"write a record of its private zone", request{"route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0PRIVATEZONE", nil}, true},
		{"write a record of another zone", request{"route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0SOMEONEELSES", nil}, false},
		{"delete another zone", request{"route53:DeleteHostedZone", "arn:aws:route53:::hostedzone/Z0SOMEONEELSES", nil}, false},
		{"write the stacks' state", request{"s3:PutObject", "arn:aws:s3:::state-x/ci/.pulumi/stacks/ci-infra-secrets/prod.json", nil}, true},
		{"list the stacks' state", request{"s3:ListBucket", "arn:aws:s3:::state-x", map[string]string{"s3:prefix": "ci/.pulumi/stacks/"}}, true},
		{"read another project's state in that bucket", request{"s3:GetObject", "arn:aws:s3:::state-x/payments/.pulumi/stacks/app/prod.json", nil}, false},
		// Issue 28: the network by ID. EC2 authorizes each resource an
		// action names, so each row is one of them.
		{"add a route to its own route table", request{"ec2:CreateRoute", ec2ARN("route-table/rtb-0own"), nil}, true},
		{"route through its own gateway", request{"ec2:CreateRoute", ec2ARN("internet-gateway/igw-0own"), nil}, true},
		{"create a subnet in its own VPC", request{"ec2:CreateSubnet", ec2ARN("vpc/vpc-0own"), nil}, true},
		{"the subnet that CreateSubnet makes", request{"ec2:CreateSubnet", ec2ARN("subnet/*"), nil}, true},
		{"associate its route table with its subnet", request{"ec2:AssociateRouteTable", ec2ARN("subnet/subnet-0owna"), nil}, true},
		{"create a VPC", request{"ec2:CreateVpc", ec2ARN("vpc/*"), nil}, true},
		{"reroute another VPC's route table", request{"ec2:ReplaceRoute", ec2ARN("route-table/rtb-0other"), nil}, false},
		{"route its own table through a peering connection", request{"ec2:CreateRoute", ec2ARN("vpc-peering-connection/pcx-0other"), nil}, false},
		{"create a subnet in another VPC", request{"ec2:CreateSubnet", ec2ARN("vpc/vpc-0other"), nil}, false},
		{"delete another VPC", request{"ec2:DeleteVpc", ec2ARN("vpc/vpc-0other"), nil}, false},
		{"put another VPC's subnet on its route table", request{"ec2:AssociateRouteTable", ec2ARN("subnet/subnet-0other"), nil}, false},
		{"detach another VPC's gateway", request{"ec2:DetachInternetGateway", ec2ARN("internet-gateway/igw-0other"), nil}, false},
		{"open another VPC's endpoint policy", request{"ec2:ModifyVpcEndpoint", ec2ARN("vpc-endpoint/vpce-0other"), nil}, false},
		{"anything in another service", request{"dynamodb:Scan", "arn:aws:dynamodb:us-east-1:123456789012:table/x", nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, permits(t, doc, tt.req))
		})
	}
	assert.NotContains(t, doc, `"Action":"*"`)
	assert.NotContains(t, doc, `"*:*"`)
}

func TestServiceRoleIsCloudFormationsAndScopedToTheStacks(t *testing.T) {
	trust, err := ServiceRoleTrust().JSON()
	require.NoError(t, err)
	assert.Contains(t, trust, `"Service":"cloudformation.amazonaws.com"`)
	assert.NotContains(t, trust, "Federated", "no pipeline token can assume it")
	doc, err := StackServicePolicy(testScope).JSON()
	require.NoError(t, err)
	// The template's instance role, with its boundary
	// (InstanceRolePermissionsBoundaryARN), which no stack update may drop
	// or swap: the deploy role could otherwise pass an empty parameter.
	bounded := func(action, boundary string) bool {
		ctx := map[string]string{}
		if boundary != "" {
			ctx["iam:PermissionsBoundary"] = "arn:aws:iam::123456789012:policy/" + boundary
		}
		return permits(t, doc, request{action, "arn:aws:iam::123456789012:role/buildkite-builders-Role", ctx})
	}
	assert.True(t, bounded("iam:CreateRole", "ci-infra-prod-agent-boundary"), "the template's instance role, bounded")
	assert.True(t, bounded("iam:CreateRole", "ci-infra-prod-deploy-agent-boundary"), "the deploy agents' instance role, bounded")
	assert.False(t, bounded("iam:CreateRole", ""), "an instance role without a boundary")
	assert.False(t, bounded("iam:PutRolePermissionsBoundary", "anything-else"), "an instance role with another boundary")
	assert.False(t, bounded("iam:DeleteRolePermissionsBoundary", ""), "a boundary removed by a stack update")
	// With the boundary parameter set, the template gives it to every role
	// it makes: the Lambda roles' PermissionsBoundary and the scaler's
	// RolePermissionsBoundaryARN (v6.71.1 aws-stack.yml), so the service
	// role may make none without it.
	lambda := "arn:aws:iam::123456789012:role/buildkite-builders-AsgProcessSuspenderRole-X1"
	assert.True(t, permits(t, doc, request{"iam:CreateRole", lambda, map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/ci-infra-prod-agent-boundary"}}),
		"the template's Lambda roles, bounded")
	assert.False(t, permits(t, doc, request{"iam:CreateRole", lambda, nil}), "a Lambda role without the boundary: the parameter was emptied")
	// Issue 28: InstanceRoleName names the instance role anything the
	// stack's names allow; without a boundary it must still fail.
	renamed := "arn:aws:iam::123456789012:role/buildkite-x"
	assert.False(t, permits(t, doc, request{"iam:CreateRole", renamed, nil}), "an instance role renamed by InstanceRoleName, unbounded")
	assert.False(t, permits(t, doc, request{"iam:PutRolePolicy", renamed, nil}), "an inline policy on an unbounded role")
	assert.False(t, permits(t, doc, request{"iam:AttachRolePolicy", renamed, map[string]string{"iam:PolicyARN": "arn:aws:iam::123456789012:policy/buildkite-agent"}}),
		"the agent policy on an unbounded role")
	assert.True(t, permits(t, doc, request{"iam:AttachRolePolicy", renamed, map[string]string{"iam:PolicyARN": "arn:aws:iam::123456789012:policy/buildkite-agent",
		"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/ci-infra-prod-agent-boundary"}}), "the agent policy on a bounded role")
	// The template's ManagedPolicyARNs parameter reaches the instance role
	// through the service role: only the agent policy may arrive that way.
	attach := func(policy string) bool {
		return permits(t, doc, request{"iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/buildkite-Role", map[string]string{"iam:PolicyARN": policy,
			"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/ci-infra-prod-agent-boundary"}})
	}
	assert.True(t, attach("arn:aws:iam::123456789012:policy/buildkite-agent"), "the agent policy")
	assert.True(t, attach("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), "the template's Lambda roles' policy")
	assert.False(t, attach("arn:aws:iam::aws:policy/AdministratorAccess"), "AdministratorAccess through ManagedPolicyARNs")
	assert.False(t, attach("arn:aws:iam::123456789012:policy/anything-else"), "any other policy")
	assert.False(t, permits(t, doc, request{"iam:CreateRole", "arn:aws:iam::123456789012:role/admin", nil}), "no role outside the stacks' names")
	assert.False(t, strings.Contains(doc, `"iam:*"`) || strings.Contains(doc, `"Action":"*"`))
}

// The preview role, which every pull request's build the gate lets run may
// assume (and a rogue agent that takes such a job), reads what a refresh of
// the main stack reads and its state, and nothing else: no secret by any
// path or service, and none of the account's other data (issue 28: under
// ReadOnlyAccess it read every other bucket, log events, SSM String
// parameters, Lambda environments, console output and CloudTrail).
func TestThePreviewRoleReadsOnlyWhatAPreviewNeeds(t *testing.T) {
	const token = "arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod/buildkite-agent-token"
	const deployToken = "arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod/buildkite-deploy-agent-token"
	grant, err := PreviewPolicy(testScope, testPreview)
	require.NoError(t, err)
	allow, err := grant.JSON()
	require.NoError(t, err)
	own, err := PreviewObjects(testScope, testPreview)
	require.NoError(t, err)
	deny, err := previewDeny(own, testScope.ParameterPathARN()).JSON()
	require.NoError(t, err)
	// Both policies apply; an explicit Deny in either wins.
	can := func(r request) bool { return permits(t, allow, r) && !denies(t, deny, r) }
	viaSSM := map[string]string{"kms:ViaService": "ssm.us-east-1.amazonaws.com"}
	tests := []struct {
		name string
		req  request
		want bool
	}{
		// What a refresh of prod reads.
		{"the bootstrap script", request{"s3:GetObject", "arn:aws:s3:::buildkite-config-x/bootstrap.sh", nil}, true},
		{"the gate's env object", request{"s3:GetObject", "arn:aws:s3:::buildkite-managedsecrets-x/env", nil}, true},
		{"a bucket's policy", request{"s3:GetBucketPolicy", "arn:aws:s3:::buildkite-managedsecrets-x", nil}, true},
		{"an agent stack", request{"cloudformation:DescribeStacks", "arn:aws:cloudformation:us-east-1:123456789012:stack/buildkite/abc", nil}, true},
		{"a role", request{"iam:GetRole", "arn:aws:iam::123456789012:role/ci-infra-prod-deploy", nil}, true},
		{"the VPC", request{"ec2:DescribeVpcs", "*", nil}, true},
		{"the main stack's state", request{"s3:GetObject", "arn:aws:s3:::state-x/ci/.pulumi/stacks/ci-infra/prod.json", nil}, true},
		{"the backend's meta", request{"s3:GetObject", "arn:aws:s3:::state-x/ci/.pulumi/meta.yaml", nil}, true},
		{"the backend's listing", request{"s3:ListBucket", "arn:aws:s3:::state-x", map[string]string{"s3:prefix": "ci/.pulumi/stacks/ci-infra/"}}, true},
		// The secrets, by every path.
		{"the token itself", request{"ssm:GetParameter", token, nil}, false},
		{"the deploy cluster's token", request{"ssm:GetParameter", deployToken, nil}, false},
		{"both at once", request{"ssm:GetParameters", deployToken, nil}, false},
		{"its history", request{"ssm:GetParameterHistory", token, nil}, false},
		{"by its parent path", request{"ssm:GetParametersByPath", "arn:aws:ssm:us-east-1:123456789012:parameter/ci-infra/prod", nil}, false},
		{"by the root path", request{"ssm:GetParametersByPath", "arn:aws:ssm:us-east-1:123456789012:parameter/", nil}, false},
		{"decrypting it through SSM", request{"kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/any", viaSSM}, false},
		{"a secret object", request{"s3:GetObject", "arn:aws:s3:::buildkite-managedsecrets-x/private_ssh_key", nil}, false},
		{"an old version of a secret object", request{"s3:GetObjectVersion", "arn:aws:s3:::buildkite-managedsecrets-x/secret-files/DOCKER_LOGIN_PASSWORD", nil}, false},
		{"a secret object's attributes", request{"s3:GetObjectAttributes", "arn:aws:s3:::buildkite-managedsecrets-x/build-safety-github-token", nil}, false},
		{"an old version of the gate, which is no secret", request{"s3:GetObjectVersion", "arn:aws:s3:::buildkite-managedsecrets-x/env", nil}, false},
		{"decrypting directly", request{"kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/any", nil}, false},
		{"a Secrets Manager secret", request{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:any", nil}, false},
		// Issue 28: what ReadOnlyAccess left readable.
		{"the secrets stack's state", request{"s3:GetObject", "arn:aws:s3:::state-x/ci/.pulumi/stacks/ci-infra-secrets/prod.json", nil}, false},
		{"another project's state in the bucket", request{"s3:GetObject", "arn:aws:s3:::state-x/other/.pulumi/stacks/app/prod.json", nil}, false},
		{"the state bucket's other listing", request{"s3:ListBucket", "arn:aws:s3:::state-x", map[string]string{"s3:prefix": "other/"}}, false},
		{"another bucket's object", request{"s3:GetObject", "arn:aws:s3:::payroll-exports/2026-11.csv", nil}, false},
		{"another bucket's listing", request{"s3:ListBucket", "arn:aws:s3:::payroll-exports", nil}, false},
		{"a log group's events", request{"logs:GetLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:log-stream:y", nil}, false},
		{"a search of the logs", request{"logs:FilterLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x", nil}, false},
		{"a Lambda's environment", request{"lambda:GetFunctionConfiguration", "arn:aws:lambda:us-east-1:123456789012:function:x", nil}, false},
		{"a Lambda's code", request{"lambda:GetFunction", "arn:aws:lambda:us-east-1:123456789012:function:x", nil}, false},
		{"an SSM String parameter", request{"ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/app/db-host", nil}, false},
		{"an ECS task definition's environment", request{"ecs:DescribeTaskDefinition", "*", nil}, false},
		{"a CodeBuild project's environment", request{"codebuild:BatchGetProjects", "arn:aws:codebuild:us-east-1:123456789012:project/x", nil}, false},
		{"an instance's console", request{"ec2:GetConsoleOutput", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", nil}, false},
		{"an instance's user data", request{"ec2:DescribeInstanceAttribute", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", nil}, false},
		{"CloudTrail's events", request{"cloudtrail:LookupEvents", "*", nil}, false},
		{"another CloudFormation stack's template", request{"cloudformation:GetTemplate", "arn:aws:cloudformation:us-east-1:123456789012:stack/payments/abc", nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, can(tt.req)) })
	}
	assert.NotContains(t, allow, `"s3:GetObject*"`)
	assert.NotContains(t, allow, `"*:*"`)
}

// denies reports whether a Deny statement of policy matches r.
func denies(t *testing.T, policy string, r request) bool {
	t.Helper()
	var doc struct{ Statement []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(policy), &doc))
	for _, st := range doc.Statement {
		if st["Effect"] != "Deny" {
			continue
		}
		st["Effect"] = "Allow" // evaluate the statement's match alone
		one, err := json.Marshal(map[string]any{"Statement": []any{st}})
		require.NoError(t, err)
		if permits(t, string(one), r) {
			return true
		}
	}
	return false
}

// IAM refuses a role whose inline policies together exceed 10,240
// characters (whitespace excluded; IAM and STS quotas): the deploy role's
// one policy must fit for the largest scope the config allows.
func TestTheDeployPolicyFitsIAMsInlineQuota(t *testing.T) {
	const quota = 10240
	scope := testScope
	scope.AgentStacks = []string{"buildkite-agents-test", "buildkite-builders-warm", "buildkite-builders-burst", "buildkite-deploy-agents"}
	scope.Buckets = []string{"buildkite-config-materialize-dr", "buildkite-managedsecrets-materialize-dr", "buildkite-managedsecrets-logs-materialize-dr", "downloads-dr.mtrlz.dev"}
	scope.ZoneIDs = []string{"Z0123456789ABCDEFGHIJ", "Z0123456789ABCDEFGHIK"}
	scope.StateBackend = "s3://materialize-pulumi-state-backend/ci-infra/?region=us-east-1"
	scope.Network.SubnetIDs = nil
	for i := range 6 { // the most availability zones a region has, less one
		scope.Network.SubnetIDs = append(scope.Network.SubnetIDs, fmt.Sprintf("subnet-0123456789abcdef%d", i))
	}
	scope.Network.VpcID, scope.Network.RouteTableID = "vpc-0123456789abcdef0", "rtb-0123456789abcdef0"
	scope.Network.InternetGatewayID, scope.Network.EndpointID = "igw-0123456789abcdef0", "vpce-0123456789abcdef0"
	doc, err := DeployPolicy(scope, "ci-infra-materialize-dr", "arn:aws:iam::123456789012:role/ci-infra-materialize-dr-agent-stacks").JSON()
	require.NoError(t, err)
	assert.LessOrEqual(t, len(doc), quota, "the deploy role's policy is %d characters", len(doc))
	t.Logf("deploy policy: %d of %d characters", len(doc), quota)
}
