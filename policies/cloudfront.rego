# CloudFront: the downloads site. HTTPS only, modern TLS, logged, and the
# bucket reached through an origin access control.
package ci_infra

import rego.v1

distribution_type := "aws:cloudfront/distribution:Distribution"

# Source: checkov CKV_AWS_34 (viewer protocol policy is HTTPS).
deny_cloudfront_http contains msg if {
	input.__type == distribution_type
	some behavior in array.concat([input.defaultCacheBehavior], object.get(input, "orderedCacheBehaviors", []))
	not plain(behavior.viewerProtocolPolicy) in {"redirect-to-https", "https-only"}
	msg := sprintf("distribution %s serves %v over plain HTTP (checkov CKV_AWS_34)", [input.__name, object.get(behavior, "pathPattern", "*")])
}

# Source: checkov CKV_AWS_174 (TLS 1.2 or later): with a certificate of
# its own, the distribution accepts TLSv1.2_2021 and nothing older.
deny_cloudfront_tls contains msg if {
	input.__type == distribution_type
	input.viewerCertificate.acmCertificateArn
	plain(input.viewerCertificate.minimumProtocolVersion) != "TLSv1.2_2021"
	msg := sprintf("distribution %s accepts %v; use TLSv1.2_2021 (checkov CKV_AWS_174)", [input.__name, plain(input.viewerCertificate.minimumProtocolVersion)])
}

# Source: checkov CKV_AWS_86 (access logging). Legacy logging needs a bucket
# with ACLs, which deny_bucket_public_acls forbids: a log delivery source of
# the distribution's access logs is required instead.
stack_deny_cloudfront_logging contains msg if {
	some d in input.resources
	d.__type == distribution_type
	not logged(d)
	msg := sprintf("distribution %s has no access-log delivery (checkov CKV_AWS_86)", [d.__name])
}

logged(d) if {
	some s in input.resources
	s.__type == "aws:cloudwatch/logDeliverySource:LogDeliverySource"
	plain(s.logType) == "ACCESS_LOGS"
	d.__urn in object.get(s.propertyDependencies, "resourceArn", [])
}

# Source: AWS's guidance for S3 origins (origin access control, not a public
# bucket): every S3 origin is reached through an OAC.
deny_cloudfront_public_origin contains msg if {
	input.__type == distribution_type
	some origin in input.origins
	endswith(plain(origin.domainName), ".amazonaws.com")
	not origin.originAccessControlId
	msg := sprintf("distribution %s reads the bucket %v without an origin access control", [input.__name, plain(origin.domainName)])
}
