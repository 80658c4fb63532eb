package ciaccess

import (
	"errors"
	"fmt"
	"slices"

	"mtrlz.dev/ci-infra/components/policydoc"
)

// Scope is everything a deploy may touch, by name: the program's buckets,
// its agent policy, its own roles (RoleNamePrefix), the token parameter's
// path, and the agent stacks, which CloudFormation creates from one pinned
// template with a service role. No AdministratorAccess, no Allow of "*".
type Scope struct {
	Region          string
	Buckets         []string // bucket names
	AgentPolicyName string
	ParameterPath   string // e.g. "/ci-infra/prod/": the token parameter lives under it
	// AgentStacks are the CloudFormation stacks of the agents, and
	// TemplateURL the one template they may be created or updated from.
	AgentStacks []string
	TemplateURL string
	// AgentBoundaries are the managed policies that bound the agent stacks'
	// instance roles (their InstanceRolePermissionsBoundaryARN), by name:
	// the service role sets no other boundary and removes none, and the
	// deploy role cannot rewrite them.
	AgentBoundaries []string
	// StateBackend is the stacks' S3 state backend (PULUMI_BACKEND_URL,
	// s3://bucket/prefix), or "" when the state is elsewhere: the deploy
	// role reads and writes the state under its .pulumi/, the preview role
	// reads the main stacks' (PreviewPolicy).
	StateBackend string
	// ZoneIDs are the Route 53 zones the program writes: its private zone,
	// and the public zone when it manages records there. The deploy role
	// changes no other zone. Unknown until the zones exist.
	ZoneIDs []string
	// Network is the agents' VPC and what it is made of: the deploy role
	// changes no other VPC, route table, subnet, gateway or endpoint.
	// Unknown until the network exists; with no VpcID, network writes are
	// scoped by action only.
	Network OwnNetwork
}

// OwnNetwork names the network the program declares (components/network).
type OwnNetwork struct {
	VpcID, RouteTableID, InternetGatewayID, EndpointID string
	SubnetIDs                                          []string
}

// Validate reports every problem of the scope at once.
func (s Scope) Validate() error {
	var errs []error
	if s.Region == "" || len(s.Buckets) == 0 || s.AgentPolicyName == "" || len(s.AgentStacks) == 0 || s.TemplateURL == "" || len(s.AgentBoundaries) == 0 {
		errs = append(errs, errors.New("Scope needs Region, Buckets, AgentPolicyName, AgentStacks, TemplateURL and AgentBoundaries: the deploy role may touch only what is named"))
	}
	if len(s.ParameterPath) < 3 || s.ParameterPath[0] != '/' || s.ParameterPath[len(s.ParameterPath)-1] != '/' {
		errs = append(errs, fmt.Errorf("Scope.ParameterPath %q must be a path such as /ci-infra/prod/", s.ParameterPath))
	}
	if _, err := ParseStateBackend(s.StateBackend); err != nil {
		errs = append(errs, fmt.Errorf("Scope.StateBackend: %w", err))
	}
	return errors.Join(errs...)
}

// agentBoundaryARNs are the ARNs of AgentBoundaries.
func (s Scope) agentBoundaryARNs() []string {
	var out []string
	for _, name := range s.AgentBoundaries {
		out = append(out, s.arn("iam", "policy/"+name))
	}
	return out
}

// ParameterPathARN is the ARN pattern of every parameter under
// ParameterPath: the agent tokens, which the preview role is denied.
func (s Scope) ParameterPathARN() string { return s.arn("ssm", "parameter"+s.ParameterPath+"*") }

// The names of the program's roles, from the stack's prefix.
func ServiceRoleName(roleNamePrefix string) string { return roleNamePrefix + "-agent-stacks" }
func DeployRoleName(roleNamePrefix string) string  { return roleNamePrefix + "-deploy" }
func PreviewRoleName(roleNamePrefix string) string { return roleNamePrefix + "-preview" }
func PublishRoleName(roleNamePrefix string) string { return roleNamePrefix + "-publish" }

// PublishBoundaryName is the managed policy that bounds the publish role:
// whatever policy the deploy role gives it, it can do no more than this.
func PublishBoundaryName(roleNamePrefix string) string { return roleNamePrefix + "-publish-boundary" }

// lambdaBasicExecutionARN is the managed policy the template's own Lambda
// roles attach (elastic-ci-stack-for-aws v6.71.1 aws-stack.yml,
// AsgProcessSuspenderRole and StopBuildkiteAgentsRole): with the agent
// policy, the only managed policies the service role may attach.
const lambdaBasicExecutionARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

// roleWrites are the IAM actions that change what a role may do or who may
// assume it.
var roleWrites = []string{
	"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
	"iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
	"iam:DeleteRole", "iam:UpdateRole",
}

// boundedRoleWrites are the role writes IAM conditions on the role's
// permissions boundary (iam:PermissionsBoundary: the boundary being set by
// CreateRole and PutRolePermissionsBoundary, the role's own for the rest).
var boundedRoleWrites = []string{
	"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
	"iam:PutRolePermissionsBoundary",
}

// arn builds an ARN in the role's own account ("*": IAM evaluates a
// policy in its account, and no account ID is written anywhere).
func (s Scope) arn(service, resource string) string {
	region := s.Region
	if service == "iam" || service == "s3" || service == "route53" {
		region = ""
	}
	account := "*"
	if service == "s3" || service == "route53" {
		account = ""
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, resource)
}

// DeployPolicy is the deploy role's only policy. What the program declares
// itself (buckets, network, zone, parameter, policy, roles) it may manage
// by name; the agent stacks it may only create and update from the pinned
// template with the service role, which holds the template's own
// permissions and which only CloudFormation can assume.
//
// It cannot raise itself. Its Deny statements (which win over any Allow,
// and over anything it could attach) keep it from changing its own role or
// the service role; from creating any role but the preview and publish
// roles; from changing who may assume a role, or deleting one; and from
// touching any role that does not carry one of the two permissions
// boundaries (ReadOnlyAccess for the preview role, PublishBoundaryName for
// the publish role), which it can neither remove nor rewrite. Changes to
// those are an operator's, from a laptop (`scripts/ci-up`); a deploy job
// that needs one fails on it, by design.
func DeployPolicy(s Scope, roleNamePrefix, serviceRoleARN string) policydoc.Document {
	deployRole := s.arn("iam", "role/"+DeployRoleName(roleNamePrefix))
	publishBoundary := s.arn("iam", "policy/"+PublishBoundaryName(roleNamePrefix))
	var bucketARNs []string
	for _, b := range s.Buckets {
		bucketARNs = append(bucketARNs, s.arn("s3", b), s.arn("s3", b+"/*"))
	}
	// The stacks themselves, by exact name: only these may be created or
	// updated. A pattern such as buildkite-* would let a deploy create a
	// stack of a new name, whose instance role no statement names.
	var exactStackARNs, stackARNs []string
	for _, name := range s.AgentStacks {
		exactStackARNs = append(exactStackARNs, s.arn("cloudformation", "stack/"+name+"/*"))
		// The stack, and the nested stacks of its SAM applications, which
		// CloudFormation itself creates with the service role.
		stackARNs = append(stackARNs, s.arn("cloudformation", "stack/"+name+"/*"), s.arn("cloudformation", "stack/"+name+"-*/*"))
	}
	agentPolicy := s.arn("iam", "policy/"+s.AgentPolicyName)
	statements := []policydoc.Statement{
		{Sid: "Buckets", Effect: "Allow", Action: []string{"s3:*"}, Resource: bucketARNs},
		{Sid: "ListBuckets", Effect: "Allow", Action: []string{"s3:ListAllMyBuckets", "s3:GetBucketLocation"}, Resource: []string{"*"}},
		{Sid: "Network", Effect: "Allow", Action: []string{
			"ec2:Describe*", "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute",
			"ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
			"ec2:CreateInternetGateway", "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
			"ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute",
			"ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
			"ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint",
			"ec2:CreateTags", "ec2:DeleteTags",
		}, Resource: []string{"*"}},
		// A new zone has no ARN yet, and listing names none; everything
		// else acts on the program's own zones only.
		{Sid: "Zones", Effect: "Allow", Action: []string{
			"route53:CreateHostedZone", "route53:ListHostedZones", "route53:ListHostedZonesByName", "route53:GetChange",
		}, Resource: []string{"*"}},
		{Sid: "OwnZones", Effect: "Allow", Action: []string{
			"route53:DeleteHostedZone", "route53:GetHostedZone", "route53:UpdateHostedZoneComment", "route53:AssociateVPCWithHostedZone",
			"route53:DisassociateVPCFromHostedZone", "route53:ChangeTagsForResource", "route53:ListTagsForResource",
			"route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets",
		}, Resource: s.zoneARNs()},
		{Sid: "TokenParameter", Effect: "Allow", Action: []string{"ssm:*"},
			Resource: []string{s.ParameterPathARN()}},
		{Sid: "DescribeParameters", Effect: "Allow", Action: []string{"ssm:DescribeParameters"}, Resource: []string{"*"}},
		{Sid: "OwnIAM", Effect: "Allow", Action: []string{
			"iam:Get*", "iam:List*", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
			"iam:TagPolicy", "iam:UntagPolicy",
			"iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
			"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:TagRole", "iam:UntagRole",
			"iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:TagOpenIDConnectProvider",
			"iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
			"iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
		}, Resource: []string{
			s.arn("iam", "policy/"+s.AgentPolicyName),
			s.arn("iam", "role/"+roleNamePrefix+"-*"),
			s.arn("iam", "oidc-provider/"+claimPrefix),
		}},
		{Sid: "AgentStacks", Effect: "Allow", Action: []string{
			"cloudformation:CreateStack", "cloudformation:UpdateStack",
		}, Resource: exactStackARNs, Condition: map[string]map[string]any{
			"StringEquals": {"cloudformation:TemplateUrl": s.TemplateURL, "cloudformation:RoleArn": serviceRoleARN},
		}},
		// Reads only, by wildcard: the policy must fit IAM's 10,240
		// characters (TestTheDeployPolicyFitsIAMsInlineQuota).
		{Sid: "AgentStacksRead", Effect: "Allow", Action: []string{
			"cloudformation:Describe*", "cloudformation:Get*", "cloudformation:List*",
		}, Resource: stackARNs},
		// Deleting and tagging carry no template, so the conditions above
		// cannot apply. A delete is what Pulumi does to replace a stack.
		// Without a RoleARN, "CloudFormation uses the role that was
		// previously associated with the stack" (DeleteStack API reference),
		// and passing another needs iam:PassRole, granted below for the
		// service role only; the stacks' names bound the rest.
		{Sid: "AgentStacksDeleteAndTag", Effect: "Allow", Action: []string{
			"cloudformation:DeleteStack", "cloudformation:TagResource", "cloudformation:UntagResource",
		}, Resource: exactStackARNs},
		{Sid: "ValidateTemplate", Effect: "Allow", Action: []string{"cloudformation:ValidateTemplate"}, Resource: []string{"*"}},
		{Sid: "PassServiceRole", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: []string{serviceRoleARN},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}},
		{Sid: "NotItselfNorTheServiceRole", Effect: "Deny", Action: roleWrites,
			Resource: []string{deployRole, serviceRoleARN}},
		{Sid: "NoOtherRoles", Effect: "Deny", Action: []string{"iam:CreateRole"},
			NotResource: []string{s.arn("iam", "role/"+PreviewRoleName(roleNamePrefix)), s.arn("iam", "role/"+PublishRoleName(roleNamePrefix))}},
		{Sid: "NoTrustChangesNorDeletes", Effect: "Deny", Action: []string{
			"iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRole",
		}, Resource: []string{"*"}},
		{Sid: "OnlyBoundedRoles", Effect: "Deny", Action: boundedRoleWrites, Resource: []string{"*"},
			Condition: map[string]map[string]any{"ArnNotLike": {"iam:PermissionsBoundary": []string{readOnlyPolicyARN, publishBoundary}}}},
		// The boundaries, and the agent policy, which every agent stack
		// attaches to its instance role: a new version of it would reach
		// every instance. Their changes are an operator's, from a laptop.
		{Sid: "BoundariesAndAgentPolicyStay", Effect: "Deny", Action: []string{
			"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
		}, Resource: append([]string{publishBoundary, agentPolicy}, s.agentBoundaryARNs()...)},
		// The agent policy reaches roles only through the agent stacks
		// (ManagedPolicyARNs, which the service role bounds).
		{Sid: "AgentPolicyAttachedOnlyByTheStacks", Effect: "Deny", Action: []string{
			"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy",
		}, Resource: []string{"*"}, Condition: map[string]map[string]any{"ArnLike": {"iam:PolicyARN": agentPolicy}}},
		// The preview role's deny list is what keeps every secret from a
		// pull request's preview: the deploy may not remove or rewrite it,
		// nor detach what the role reads by.
		{Sid: "PreviewPolicyStays", Effect: "Deny", Action: []string{
			"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
		}, Resource: []string{s.arn("iam", "role/"+PreviewRoleName(roleNamePrefix))}},
		// No stack of another name, with any role: a new stack from the
		// pinned template would make an instance role no statement names.
		{Sid: "NoOtherStacks", Effect: "Deny", Action: []string{
			"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:CreateChangeSet",
			"cloudformation:ExecuteChangeSet", "cloudformation:SetStackPolicy",
		}, NotResource: exactStackARNs},
	}
	statements = append(statements, s.networkFence()...)
	// The stacks' state, main and secrets (a deploy updates both), and
	// nothing else of the backend's bucket. Another account's bucket must
	// also grant this role in its bucket policy.
	if state, err := ParseStateBackend(s.StateBackend); err == nil && state.Bucket != "" {
		statements = append(statements,
			policydoc.Statement{Sid: "State", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
				Resource: []string{"arn:aws:s3:::" + state.Bucket + "/" + state.Prefix + ".pulumi/*"}},
			policydoc.Statement{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{"arn:aws:s3:::" + state.Bucket},
				Condition: map[string]map[string]any{"StringLike": {"s3:prefix": state.Prefix + ".pulumi/*"}}})
	}
	return policydoc.New(statements...)
}

// networkFence keeps the deploy role's network writes (granted on "*",
// since a new VPC, subnet or route table has no ID to name) to the
// program's own network: every write that names an existing VPC, route
// table, subnet, gateway or endpoint must name one of its own. EC2
// authorizes each resource an action names (CreateSubnet names the new
// subnet and its VPC; CreateRoute the route table and its target), so each
// statement exempts the kinds of resource that the action names beside the
// one it guards, and those are fenced by the statement of their own kind.
// A replaced VPC is an operator's change, from a laptop: its new ID is not
// in the policy until the deploy that creates it has finished.
func (s Scope) networkFence() []policydoc.Statement {
	n := s.Network
	if n.VpcID == "" {
		return nil
	}
	ec2 := func(kind string, ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, s.arn("ec2", kind+"/"+id))
		}
		return out
	}
	// others are the wildcards of every kind the program's network
	// actions name, but the guarded ones. Any other kind (a peering
	// connection, a NAT gateway, an instance as a route target) is denied.
	// (In any region and account: these only exempt a kind from one
	// statement, and the policy must fit IAM's 10,240 characters.)
	others := func(guarded ...string) []string {
		var out []string
		for _, kind := range []string{"vpc", "subnet", "route-table", "internet-gateway", "vpc-endpoint", "security-group", "prefix-list"} {
			if !slices.Contains(guarded, kind) {
				out = append(out, "arn:aws:ec2:*:*:"+kind+"/*")
			}
		}
		return out
	}
	subnets := ec2("subnet", n.SubnetIDs...)
	return []policydoc.Statement{
		{Sid: "OnlyItsVpc", Effect: "Deny", Action: []string{
			"ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
			"ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateVpcEndpoint",
		}, NotResource: append(ec2("vpc", n.VpcID), others("vpc")...)},
		{Sid: "OnlyItsRouteTable", Effect: "Deny", Action: []string{
			"ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", "ec2:DeleteRouteTable",
			"ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
		}, NotResource: append(ec2("route-table", n.RouteTableID), others("route-table")...)},
		{Sid: "OnlyItsSubnets", Effect: "Deny", Action: []string{
			"ec2:DeleteSubnet", "ec2:ModifySubnetAttribute", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
		}, NotResource: append(subnets, others("subnet")...)},
		{Sid: "OnlyItsGatewayAndEndpoint", Effect: "Deny", Action: []string{
			"ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
			"ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint",
		}, NotResource: append(append(ec2("internet-gateway", n.InternetGatewayID), ec2("vpc-endpoint", n.EndpointID)...),
			others("internet-gateway", "vpc-endpoint")...)},
	}
}

// zoneARNs are the ARNs of ZoneIDs; with none known yet, an ARN no zone
// has, so that the statement stays valid and grants nothing.
func (s Scope) zoneARNs() []string {
	if len(s.ZoneIDs) == 0 {
		return []string{"arn:aws:route53:::hostedzone/none-yet"}
	}
	var out []string
	for _, id := range s.ZoneIDs {
		out = append(out, "arn:aws:route53:::hostedzone/"+id)
	}
	return out
}

// ServiceRoleTrust lets only CloudFormation assume the service role.
func ServiceRoleTrust() policydoc.Document {
	return policydoc.New(policydoc.Statement{
		Effect: "Allow", Principal: map[string]any{"Service": "cloudformation.amazonaws.com"}, Action: []string{"sts:AssumeRole"},
	})
}

// StackServicePolicy is what CloudFormation needs to create the Elastic CI
// Stack's resources: the actions of Buildkite's own service role for the
// template (elastic-ci-stack-for-aws v6.71.1, templates/service-role.yml),
// with the IAM, Lambda, log, event and bucket names narrowed to the agent
// stacks' names, which the template derives its own from.
func StackServicePolicy(s Scope) policydoc.Document {
	named := func(service, kind, sep string) []string {
		var out []string
		for _, name := range s.AgentStacks {
			out = append(out, s.arn(service, kind+sep+name+"-*"))
		}
		return out
	}
	var buckets []string
	for _, name := range s.AgentStacks {
		buckets = append(buckets, s.arn("s3", name+"-*"), s.arn("s3", name+"-*/*"))
	}
	return policydoc.New(
		policydoc.Statement{Sid: "NestedStacks", Effect: "Allow", Action: []string{"cloudformation:*"}, Resource: append(
			named("cloudformation", "stack", "/"),
			s.arn("cloudformation", "transform/Serverless-2016-10-31"))},
		policydoc.Statement{Sid: "ServerlessApplications", Effect: "Allow", Action: []string{
			"serverlessrepo:GetApplication", "serverlessrepo:GetCloudFormationTemplate", "serverlessrepo:CreateCloudFormationTemplate",
		}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "Instances", Effect: "Allow", Action: []string{
			"ec2:Describe*", "ec2:CreateTags", "ec2:RunInstances",
			"ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:DeleteLaunchTemplate", "ec2:ModifyLaunchTemplate",
			"ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
			"ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
		}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "AutoScaling", Effect: "Allow", Action: []string{"autoscaling:*"}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "StackIAM", Effect: "Allow", Action: []string{
			"iam:Get*", "iam:List*", "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
			"iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
			"iam:DetachRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:PassRole", "iam:PutRolePermissionsBoundary",
			"iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
			"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile",
			"iam:CreatePolicy", "iam:DeletePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:TagPolicy",
		}, Resource: append(append(named("iam", "role", "/"), named("iam", "instance-profile", "/")...), named("iam", "policy", "/")...)},
		policydoc.Statement{Sid: "Scaler", Effect: "Allow", Action: []string{"lambda:*"}, Resource: named("lambda", "function", ":")},
		policydoc.Statement{Sid: "Logs", Effect: "Allow", Action: []string{"logs:*"}, Resource: []string{s.arn("logs", "log-group:*")}},
		policydoc.Statement{Sid: "Schedules", Effect: "Allow", Action: []string{"events:*"}, Resource: named("events", "rule", "/")},
		policydoc.Statement{Sid: "SigningKey", Effect: "Allow", Action: []string{
			"kms:CreateKey", "kms:DescribeKey", "kms:CreateGrant", "kms:Encrypt", "kms:Decrypt", "kms:TagResource",
			"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:GetPublicKey", "kms:CreateAlias", "kms:DeleteAlias",
		}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "StackBuckets", Effect: "Allow", Action: []string{"s3:*"}, Resource: buckets},
		policydoc.Statement{Sid: "StackParameters", Effect: "Allow", Action: []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource"},
			Resource: []string{s.arn("ssm", "parameter/*")}},
		// The template's ManagedPolicyARNs parameter reaches the instance
		// role through this role: only the agent policy, and the managed
		// policy of the template's own Lambda roles, may be attached.
		policydoc.Statement{Sid: "AttachOnlyTheAgentPolicy", Effect: "Deny", Action: []string{"iam:AttachRolePolicy"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"ArnNotLike": {"iam:PolicyARN": []string{s.arn("iam", "policy/"+s.AgentPolicyName), lambdaBasicExecutionARN}}}},
		// The template's InstanceRolePermissionsBoundaryARN reaches every
		// role the template makes through this role: the instance role
		// (named by InstanceRoleName, or ${AWS::StackName}-Role), the
		// Lambda roles (AsgProcessSuspenderRole, StopBuildkiteAgentsRole)
		// and the scaler's (its RolePermissionsBoundaryARN), all of which
		// take that boundary when it is set (elastic-ci-stack-for-aws
		// v6.71.1 aws-stack.yml). So every role it creates or writes must
		// carry an agent boundary: an empty boundary parameter, or an
		// InstanceRoleName no statement names, fails the stack.
		policydoc.Statement{Sid: "RolesBounded", Effect: "Deny", Action: boundedRoleWrites,
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"ArnNotLike": {"iam:PermissionsBoundary": s.agentBoundaryARNs()}}},
		policydoc.Statement{Sid: "BoundariesStay", Effect: "Deny", Action: []string{"iam:DeleteRolePermissionsBoundary"}, Resource: []string{"*"}},
	)
}
