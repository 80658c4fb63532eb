# IAM: least privilege. The agents run unreviewed build steps.
package ci_infra

import rego.v1

# Source: checkov CKV_AWS_63 (no wildcard action) and CKV_AWS_62 (no full
# administrator "*:*").
deny_iam_wildcard_action contains msg if {
	some action in allowed_actions(input)
	action in {"*", "*:*"}
	msg := sprintf("IAM policy of %s allows %q (checkov CKV_AWS_62/63)", [input.__name, action])
}

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
