# Secret values stay secret in every resource input (and so in state).
package ci_infra

import rego.v1

# Source: Pulumi secrets; the seed keeps SSH keys and tokens in the
# managed-secrets bucket.
deny_plaintext_secret contains msg if {
	input.__type == "aws:ssm/parameter:Parameter"
	plain(input.type) == "SecureString"
	not wrapped(input.value)
	msg := sprintf("SecureString parameter %s has a plaintext value in its inputs", [input.__name])
}

deny_plaintext_secret contains msg if {
	input.__type == "aws:s3/bucketObjectv2:BucketObjectv2"
	plain(input.key) in secret_object_keys
	not wrapped(input.content)
	msg := sprintf("object %s (%s) holds a credential in plain text", [input.__name, plain(input.key)])
}

deny_plaintext_secret contains msg if {
	input.__type == "github:index/repositoryWebhook:RepositoryWebhook"
	not wrapped(input.configuration)
	input.configuration.secret
	not wrapped(input.configuration.secret)
	msg := sprintf("webhook %s has its signing secret in plain text", [input.__name])
}
