# Buildkite Elastic CI Stacks: pinned, hardened, bounded.
package ci_infra

import rego.v1

# Every CloudFormation stack of the program is an agent stack; keying on the
# type rather than the template URL leaves no way around the rules.
agent_stack if input.__type == "aws:cloudformation/stack:Stack"

param(name) := plain(input.parameters[name])

# Source: the seed ("if the CloudFormation template gets lost"): a reviewed
# release, never `latest`.
deny_agent_stack_template_unpinned contains msg if {
	agent_stack
	not regex.match(`^https://s3\.amazonaws\.com/buildkite-aws-stack/v\d+\.\d+\.\d+/aws-stack\.yml$`, plain(input.templateUrl))
	msg := sprintf("agent stack %s must use a pinned release of the template, not %s", [input.__name, plain(input.templateUrl)])
}

# Source: checkov CKV_AWS_79 (IMDSv2 only).
deny_agent_stack_imdsv1 contains msg if {
	agent_stack
	param("IMDSv2Tokens") != "required"
	msg := sprintf("agent stack %s must set IMDSv2Tokens=required (checkov CKV_AWS_79)", [input.__name])
}

deny_agent_stack_imdsv1 contains msg if {
	agent_stack
	not input.parameters.IMDSv2Tokens
	msg := sprintf("agent stack %s must set IMDSv2Tokens=required; the template defaults to optional (checkov CKV_AWS_79)", [input.__name])
}

# Source: the template's default (t3.large) is not what the cost estimate
# prices; every stack names its types, and each must have a price
# (allowed_instance_types, generated from internal/cost/prices.csv).
deny_agent_stack_instance_type contains msg if {
	agent_stack
	not input.parameters.InstanceTypes
	msg := sprintf("agent stack %s must set InstanceTypes; the template defaults to t3.large", [input.__name])
}

# Source: checkov CKV_AWS_8 (encrypted launch configuration volumes).
deny_agent_stack_root_volume_unencrypted contains msg if {
	agent_stack
	not root_volume_encrypted
	msg := sprintf("agent stack %s must set RootVolumeEncrypted=true (checkov CKV_AWS_8)", [input.__name])
}

root_volume_encrypted if param("RootVolumeEncrypted") == "true"

# Source: the template's NoEcho BuildkiteAgentToken shows in the console and
# drifts on every preview; the token goes through SSM.
deny_agent_stack_plaintext_token contains msg if {
	agent_stack
	input.parameters.BuildkiteAgentToken
	msg := sprintf("agent stack %s passes BuildkiteAgentToken; use BuildkiteAgentTokenParameterStorePath", [input.__name])
}

# Source: the seed (c5.2xlarge, about $250 a month each): only priced,
# reviewed instance types.
deny_agent_stack_instance_type contains msg if {
	agent_stack
	some t in split(param("InstanceTypes"), ",")
	not t in allowed_instance_types
	msg := sprintf("agent stack %s uses instance type %q, not in allowed_instance_types", [input.__name, t])
}

# Source: the seed ("configured to downscale aggressively"): a fleet bigger
# than the ceiling is a reviewed decision, made in components/agentstack
# (MaxSizeCeiling, which the config and the component check too).
deny_agent_stack_max_size contains msg if {
	agent_stack
	to_number(param("MaxSize")) > max_size_ceiling
	msg := sprintf("agent stack %s scales to %s instances, above the ceiling of %d", [input.__name, param("MaxSize"), max_size_ceiling])
}

# Source: the template opens tcp/22 to 0.0.0.0/0 when KeyName is set.
deny_agent_stack_ssh contains msg if {
	agent_stack
	param("KeyName") != ""
	not ssh_allowed
	msg := sprintf("agent stack %s sets KeyName, opening SSH to the world; Session Manager needs none", [input.__name])
}

# Source: issue 19 (deploy credentials no other job can forge): the agents
# that hold credentials verify and block, and never sign; the others have
# no key. No agent stack may sign: a job on a signing agent could sign
# steps of its own.
deny_agent_stack_signs contains msg if {
	agent_stack
	signing_key_configured
	param("PipelineSigningKMSAccess") != "verify"
	msg := sprintf("agent stack %s may sign pipelines (PipelineSigningKMSAccess is not verify); an operator signs steps from a laptop (scripts/sign-steps)", [input.__name])
}

signing_key_configured if param("PipelineSigningKMSKeySpec") == "ECC_NIST_P256"

signing_key_configured if param("PipelineSigningKMSKeyId") != ""

# Source: the template's InstanceRolePermissionsBoundaryARN: every job can
# use the instance role (IMDS answers containers), so the role is bounded
# away from IAM writes, signing and the other cluster's token whatever
# ManagedPolicyARNs attaches (components/agentstack/boundary.go).
deny_agent_stack_without_boundary contains msg if {
	agent_stack
	not input.parameters.InstanceRolePermissionsBoundaryARN
	msg := sprintf("agent stack %s must set InstanceRolePermissionsBoundaryARN to an agent boundary", [input.__name])
}
