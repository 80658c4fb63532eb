# IAM: least privilege. The agents run unreviewed build steps.
package ci_infra

import rego.v1

# Source: checkov CKV_AWS_63 (no wildcard action) and CKV_AWS_62 (no full
# administrator "*:*").
deny_iam_wildcard_action contains msg if {
	not agent_boundary
	some action in allowed_actions(input)
	action in {"*", "*:*"}
	msg := sprintf("IAM policy of %s allows %q (checkov CKV_AWS_62/63)", [input.__name, action])
}

# A permissions boundary grants nothing: it caps what the instance role's
# own policies grant, so it allows "*" and denies what no agent may do
# (components/agentstack/boundary.go). Only the boundary component's policy
# is exempt, and deny_agent_stack_without_boundary requires it in use.
agent_boundary if contains(input.__urn, "::ci-infra:iam:AgentBoundary$aws:iam/policy:Policy::")

# Source: checkov CKV_AWS_286..289 (privilege escalation): iam:* lets the
# holder grant itself anything.
deny_iam_iam_wildcard contains msg if {
	some action in allowed_actions(input)
	action == "iam:*"
	msg := sprintf("IAM policy of %s allows iam:*, which can grant itself anything (checkov CKV_AWS_286)", [input.__name])
}

# Source: the seed (the policy "permits access to the bootstrap script"): the
# agent policy allows s3:GetObject on the bootstrap object, and nothing else.
deny_agent_policy_scope contains msg if {
	input.__type == "aws:iam/policy:Policy"
	input.__name == "agent-policy-policy"
	some st in statements(input.policy)
	not bootstrap_read_only(st)
	msg := sprintf("agent policy statement %v must allow only s3:GetObject on the bootstrap script", [st])
}

bootstrap_read_only(st) if {
	st.Effect == "Allow"
	as_array(st.Action) == ["s3:GetObject"]
	resources := as_array(st.Resource)
	count(resources) == 1
	endswith(resources[0], "/bootstrap.sh")
	not contains(resources[0], "*")
}

# Source: issue 11 and CIS AWS 1.16 (no full administrative privileges
# attached): no role of this program holds an AWS-managed administrator
# policy; the deploy role's rights are named (components/ciaccess/deploy.go).
deny_iam_admin_attachment contains msg if {
	input.__type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	some name in {"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}
	endswith(input.policyArn, concat("", [":policy/", name]))
	msg := sprintf("%s attaches %s: name what the role may touch instead", [input.__name, name])
}

# Source: issue 19, "a deploy role that cannot raise itself". The deploy
# role's policy denies, unconditionally, every write to its own role and to
# the agent stacks' service role: otherwise it could give itself, or the
# role CloudFormation acts with, any policy or trust it likes.
deny_deploy_role_self_change contains msg if {
	input.__type == "aws:iam/rolePolicy:RolePolicy"
	input.__name == "ci-access-deploy-scope"
	statements(input.policy)
	some action in self_writes
	some target in {"-deploy", "-agent-stacks"}
	not denied_outright(action, target)
	msg := sprintf("the deploy role's policy must deny %s on the role named *%s without condition: it could raise itself", [action, target])
}

self_writes := {
	"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
	"iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
}

denied_outright(action, target) if {
	some st in statements(input.policy)
	st.Effect == "Deny"
	not st.Condition
	action in as_array(st.Action)
	some r in as_array(st.Resource)
	covers_role(r, target)
}

covers_role(r, _) if r == "*"

covers_role(r, target) if {
	contains(r, ":role/")
	endswith(r, target)
}

# Source: issue 19. Every role the deploy role may create or change carries
# a permissions boundary it can neither remove nor avoid: a Deny of role
# writes unless iam:PermissionsBoundary is one of the named boundaries, a
# Deny of creating any role but the program's, and of removing a boundary.
deny_deploy_role_unbounded_roles contains msg if {
	input.__type == "aws:iam/rolePolicy:RolePolicy"
	input.__name == "ci-access-deploy-scope"
	statements(input.policy)
	some missing in unbounded_paths
	msg := sprintf("the deploy role's policy leaves a way to an unbounded role: %s", [missing])
}

unbounded_paths contains "iam:CreateRole, iam:PutRolePolicy and iam:AttachRolePolicy are not denied unless iam:PermissionsBoundary is named" if {
	not boundary_required
}

unbounded_paths contains "iam:CreateRole is not denied outside the program's role names (NotResource)" if {
	not creation_named
}

unbounded_paths contains "iam:DeleteRolePermissionsBoundary is not denied everywhere" if {
	not denied_outright("iam:DeleteRolePermissionsBoundary", "*")
}

boundary_required if {
	some st in statements(input.policy)
	st.Effect == "Deny"
	every a in {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"} { a in as_array(st.Action) }
	count(as_array(st.Condition.ArnNotLike["iam:PermissionsBoundary"])) > 0
}

creation_named if {
	some st in statements(input.policy)
	st.Effect == "Deny"
	"iam:CreateRole" in as_array(st.Action)
	count(as_array(st.NotResource)) > 0
}

# Source: issue 19. A role a pipeline's token can assume, other than the
# deploy role (bounded by its own policy's Denies), carries a permissions
# boundary: whatever policy the deploy role gives it, it can do no more.
deny_ci_role_without_boundary contains msg if {
	input.__type == "aws:iam/role:Role"
	input.__name != "ci-access-deploy-role"
	some st in statements(input.assumeRolePolicy)
	st.Principal.Federated
	not has_boundary
	msg := sprintf("%s can be assumed with a pipeline's token and has no permissions boundary", [input.__name])
}

# Set, or unknown during a preview (a boundary policy not created yet).
has_boundary if wrapped(input.permissionsBoundary)

has_boundary if {
	is_string(input.permissionsBoundary)
	input.permissionsBoundary != ""
}

# Source: issue 19 and the template (aws-stack.yml v6.71.1): the service
# role CloudFormation acts with may attach only the agent policy and the
# managed policy of the template's own Lambda roles, so the template's
# ManagedPolicyARNs parameter cannot hand the instances an administrator
# policy.
deny_service_role_attaches_any_policy contains msg if {
	input.__type == "aws:iam/rolePolicy:RolePolicy"
	input.__name == "ci-access-stack-service"
	statements(input.policy)
	not attach_limited
	msg := "the agent stacks' service role may attach any managed policy: deny iam:AttachRolePolicy unless iam:PolicyARN is the agent policy or AWSLambdaBasicExecutionRole"
}

attach_limited if {
	some st in statements(input.policy)
	st.Effect == "Deny"
	"iam:AttachRolePolicy" in as_array(st.Action)
	allowed := as_array(st.Condition.ArnNotLike["iam:PolicyARN"])
	count(allowed) > 0
	every arn in allowed { attachable(arn) }
}

attachable(arn) if endswith(arn, ":policy/service-role/AWSLambdaBasicExecutionRole")

attachable(arn) if {
	contains(arn, ":policy/")
	not contains(arn, "Administrator")
	not contains(arn, ":aws:policy/")
}
