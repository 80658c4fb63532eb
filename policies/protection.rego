# Stateful resources survive `pulumi destroy` and accidental replacement.
package ci_infra

import rego.v1

stateful_types := {
	"aws:s3/bucketV2:BucketV2",
	"aws:route53/zone:Zone",
	"aws:ssm/parameter:Parameter",
	"github:index/team:Team",
}

# Source: the seed (secrets, bootstrap script, zone records and the trusted
# team exist nowhere else) and Pulumi's protect option.
deny_stateful_unprotected contains msg if {
	input.__type in stateful_types
	not input.__options.protect
	msg := sprintf("%s (%s) holds state and must be protected", [input.__name, input.__type])
}
