# Helpers and settings shared by the rules of the pack. Every .rego file of
# the pack declares this package, which is the pack's name.
package ci_infra

import rego.v1

# Settings. Kept here, reviewed like code. The instance types, the secrets
# bucket's objects and the ceiling of an agent stack's size
# (max_size_ceiling) come from Go (generated.rego).

# Setting KeyName opens tcp/22 to the world on the stack's security group.
ssh_allowed := false

# Bucket roles (the `role` tag the program sets on every bucket).
bucket_roles := {"config", "secrets", "access-logs", "downloads"}


bucket_type := "aws:s3/bucketV2:BucketV2"

# Writing rules: negate a helper rule (`not known_role`), never an expression
# over a value that may be missing (`not input.tags.role in roles`): OPA
# leaves the latter undefined instead of true when the value is missing, and
# the rule silently never fires. policies_test.go proves each rule fires.

# A secret reaches the analyzer wrapped as {"Element": {"V": ...}}; so does an
# unknown value during preview.
wrapped(v) if {
	is_object(v)
	is_object(v.Element)
}

# The value of a property, unwrapped.
plain(v) := v.Element.V if wrapped(v)

plain(v) := v if not wrapped(v)

as_array(v) := v if is_array(v)

as_array(v) := [v] if not is_array(v)

# Statements of a JSON policy document; undefined while the document is
# unknown (a preview of resources that do not exist yet).
statements(doc) := as_array(json.unmarshal(plain(doc)).Statement) if {
	is_string(plain(doc))
	plain(doc) != ""
}

# Resources (stack rules) of a type whose `bucket` input depends on the bucket.
attached(bucket, typ) := [r |
	some r in input.resources
	r.__type == typ
	some urn in r.propertyDependencies.bucket
	urn == bucket.__urn
]

buckets := [b |
	some b in input.resources
	b.__type == bucket_type
]

role(bucket) := bucket.tags.role

public_principal(p) if p == "*"

public_principal(p) if p.AWS == "*"

# Every action of every Allow statement of an IAM policy resource, across the
# shapes the program uses.
allowed_actions(res) := {a |
	some doc in policy_documents(res)
	some st in statements(doc)
	st.Effect == "Allow"
	some a in as_array(st.Action)
}

policy_documents(res) := [res.policy] if {
	res.__type in {"aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"}
}

policy_documents(res) := [p.policy | some p in res.inlinePolicies] if {
	res.__type == "aws:iam/role:Role"
}
