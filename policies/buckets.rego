# S3 buckets: private, encrypted, TLS-only; only the downloads bucket public,
# and then only for downloading.
package ci_infra

import rego.v1

access_block_type := "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"

# Source: checkov CKV2_AWS_6 (every bucket has a public access block).
stack_deny_bucket_public_access_block contains msg if {
	some b in buckets
	count(attached(b, access_block_type)) == 0
	msg := sprintf("bucket %s has no public access block (checkov CKV2_AWS_6)", [b.__name])
}

# Source: checkov CKV_AWS_53 and CKV_AWS_54 (block and ignore public ACLs):
# no bucket, not even the public one, takes ACLs.
deny_bucket_public_acls contains msg if {
	input.__type == access_block_type
	some flag in ["blockPublicAcls", "ignorePublicAcls"]
	input[flag] != true
	msg := sprintf("public access block %s must set %s (checkov CKV_AWS_53/54)", [input.__name, flag])
}

# Source: checkov CKV_AWS_55 and CKV_AWS_56 (block public policies, restrict
# public buckets), except for the downloads bucket (seed: binaries are served
# from a public bucket).
stack_deny_bucket_public_policy contains msg if {
	some b in buckets
	some block in attached(b, access_block_type)
	some flag in ["blockPublicPolicy", "restrictPublicBuckets"]
	block[flag] != true
	role(b) != "downloads"
	msg := sprintf("bucket %s relaxes %s but is not the downloads bucket (checkov CKV_AWS_55/56)", [b.__name, flag])
}

# Source: the seed ("anyone may download"), read narrowly: a public statement
# may only allow s3:GetObject, and only on the downloads bucket.
stack_deny_bucket_public_actions contains msg if {
	some b in buckets
	some pol in attached(b, "aws:s3/bucketPolicy:BucketPolicy")
	some st in statements(pol.policy)
	st.Effect == "Allow"
	public_principal(st.Principal)
	some action in as_array(st.Action)
	not public_download(b, action)
	msg := sprintf("bucket %s lets anyone %s; only s3:GetObject on the downloads bucket is public", [b.__name, action])
}

public_download(b, action) if {
	action == "s3:GetObject"
	role(b) == "downloads"
}

# Source: checkov CKV2_AWS_65 (ACLs disabled through BucketOwnerEnforced).
stack_deny_bucket_acls_enabled contains msg if {
	some b in buckets
	not owner_enforced(b)
	msg := sprintf("bucket %s must disable ACLs with BucketOwnerEnforced ownership controls (checkov CKV2_AWS_65)", [b.__name])
}

owner_enforced(b) if {
	some oc in attached(b, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
	oc.rule.objectOwnership == "BucketOwnerEnforced"
}

# Source: checkov CKV2_AWS_65 again: no ACL resources at all.
deny_bucket_acl contains msg if {
	input.__type == "aws:s3/bucketAclV2:BucketAclV2"
	msg := sprintf("%s sets a bucket ACL; access is decided by policies only", [input.__name])
}

# Source: checkov CKV_AWS_19 and CKV_AWS_145 (encryption at rest).
stack_deny_bucket_unencrypted contains msg if {
	some b in buckets
	count(attached(b, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")) == 0
	msg := sprintf("bucket %s has no default encryption (checkov CKV_AWS_19/145)", [b.__name])
}

# Source: checkov CKV_AWS_21 (versioning), for the buckets whose objects an
# overwrite could lose: the secrets and the bootstrap script.
stack_deny_bucket_unversioned contains msg if {
	some b in buckets
	role(b) in {"config", "secrets"}
	not versioned(b)
	msg := sprintf("%s bucket %s must be versioned (checkov CKV_AWS_21)", [role(b), b.__name])
}

versioned(b) if {
	some v in attached(b, "aws:s3/bucketVersioningV2:BucketVersioningV2")
	v.versioningConfiguration.status == "Enabled"
}

# Source: AWS Config rule s3-bucket-ssl-requests-only, for every bucket.
stack_deny_bucket_insecure_transport contains msg if {
	some b in buckets
	not tls_only(b)
	msg := sprintf("bucket %s must deny requests without TLS (AWS Config s3-bucket-ssl-requests-only)", [b.__name])
}

tls_only(b) if {
	some pol in attached(b, "aws:s3/bucketPolicy:BucketPolicy")
	some st in statements(pol.policy)
	st.Effect == "Deny"
	st.Condition.Bool["aws:SecureTransport"] == "false"
}

# A policy still unknown during preview cannot be judged yet.
tls_only(b) if {
	some pol in attached(b, "aws:s3/bucketPolicy:BucketPolicy")
	not statements(pol.policy)
}

# Source: checkov CKV_AWS_18 (access logging), for the secrets bucket: who
# read which secret must be on record.
stack_deny_secrets_bucket_unlogged contains msg if {
	some b in buckets
	role(b) == "secrets"
	count(attached(b, "aws:s3/bucketLoggingV2:BucketLoggingV2")) == 0
	msg := sprintf("secrets bucket %s must log access (checkov CKV_AWS_18)", [b.__name])
}

# The rules above key on the role tag; a bucket without a known one would
# escape them.
deny_bucket_role contains msg if {
	input.__type == bucket_type
	not known_role
	msg := sprintf("bucket %s must carry a role tag, one of %v", [input.__name, bucket_roles])
}

known_role if input.tags.role in bucket_roles
