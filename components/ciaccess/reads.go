package ciaccess

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/policydoc"
)

// readScope is what a type's reads act on: something the preview role can
// name (the program's buckets, objects, agent stacks), or anything, for
// the List and Describe calls IAM cannot scope and the reads of
// configuration that holds no secret.
type readScope int

const (
	anyResource readScope = iota
	ownBuckets
	ownObjects
	ownStacks
)

// readGrant is what the provider's Read of one resource type calls.
type readGrant struct {
	actions []string
	scope   readScope
}

// readGrants are, for each AWS resource type the main stack declares, the
// IAM actions its provider's Read calls during `pulumi preview --refresh`:
// pulumi-aws v6.83.2 bridges terraform-provider-aws, whose read function of
// each resource (internal/service/<service>/<resource>.go, resource<Name>Read)
// makes these calls. A type the program declares that is missing here
// fails the plan (PreviewPolicy), so a new resource type comes with its
// reads, reviewed. No entry grants a read of data: no object but the
// program's own, no log event, no parameter value, no function's code or
// environment, no instance's user data or console.
var readGrants = map[string]readGrant{
	"aws:acm/certificate:Certificate": {[]string{"acm:DescribeCertificate", "acm:ListTagsForCertificate"}, anyResource},
	// DescribeStacks and GetTemplate (the template body the provider
	// compares with its input), of the agent stacks only.
	"aws:cloudformation/stack:Stack":                               {[]string{"cloudformation:DescribeStacks", "cloudformation:GetTemplate"}, ownStacks},
	"aws:cloudfront/cachePolicy:CachePolicy":                       {[]string{"cloudfront:GetCachePolicy"}, anyResource},
	"aws:cloudfront/distribution:Distribution":                     {[]string{"cloudfront:GetDistribution", "cloudfront:ListTagsForResource"}, anyResource},
	"aws:cloudfront/originAccessControl:OriginAccessControl":       {[]string{"cloudfront:GetOriginAccessControl"}, anyResource},
	"aws:cloudwatch/logDelivery:LogDelivery":                       {[]string{"logs:GetDelivery", "logs:ListTagsForResource"}, anyResource},
	"aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": {[]string{"logs:GetDeliveryDestination", "logs:GetDeliveryDestinationPolicy", "logs:ListTagsForResource"}, anyResource},
	"aws:cloudwatch/logDeliverySource:LogDeliverySource":           {[]string{"logs:GetDeliverySource", "logs:ListTagsForResource"}, anyResource},
	// The group's settings, never its events.
	"aws:cloudwatch/logGroup:LogGroup":                    {[]string{"logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"}, anyResource},
	"aws:ec2/internetGateway:InternetGateway":             {[]string{"ec2:DescribeInternetGateways"}, anyResource},
	"aws:ec2/routeTable:RouteTable":                       {[]string{"ec2:DescribeRouteTables"}, anyResource},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": {[]string{"ec2:DescribeRouteTables"}, anyResource},
	"aws:ec2/subnet:Subnet":                               {[]string{"ec2:DescribeSubnets"}, anyResource},
	"aws:ec2/vpc:Vpc":                                     {[]string{"ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls", "ec2:DescribeSecurityGroups"}, anyResource},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     {[]string{"ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"}, anyResource},
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider": {[]string{"iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviders", "iam:ListOpenIDConnectProviderTags"}, anyResource},
	"aws:iam/policy:Policy":                               {[]string{"iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags"}, anyResource},
	"aws:iam/role:Role":                                   {[]string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"}, anyResource},
	"aws:iam/rolePolicy:RolePolicy":                       {[]string{"iam:GetRolePolicy"}, anyResource},
	"aws:route53/zone:Zone":                               {[]string{"route53:GetHostedZone", "route53:ListTagsForResource"}, anyResource},
	// HeadBucket (s3:ListBucket) and the bucket's settings, one Get each.
	"aws:s3/bucketV2:BucketV2": {[]string{"s3:ListBucket", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite",
		"s3:GetBucketVersioning", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment", "s3:GetBucketLogging",
		"s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
		"s3:GetBucketObjectLockConfiguration", "s3:GetBucketLocation", "s3:GetBucketTagging"}, ownBuckets},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       {[]string{"s3:GetLifecycleConfiguration"}, ownBuckets},
	"aws:s3/bucketLoggingV2:BucketLoggingV2":                                                     {[]string{"s3:GetBucketLogging"}, ownBuckets},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     {[]string{"s3:GetBucketOwnershipControls"}, ownBuckets},
	"aws:s3/bucketPolicy:BucketPolicy":                                                           {[]string{"s3:GetBucketPolicy"}, ownBuckets},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     {[]string{"s3:GetBucketPublicAccessBlock"}, ownBuckets},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {[]string{"s3:GetEncryptionConfiguration"}, ownBuckets},
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               {[]string{"s3:GetBucketVersioning"}, ownBuckets},
	// HeadObject and GetObject (s3:GetObject) and its tags: the program's
	// own objects only, whose content is this repository's.
	"aws:s3/bucketObjectv2:BucketObjectv2": {[]string{"s3:GetObject", "s3:GetObjectTagging"}, ownObjects},
}

// ReadActions are the IAM actions a refresh of one resource of typ calls,
// and whether they act on the resource itself (false: on any resource).
// ok is false for a type the preview role does not know.
func ReadActions(typ string) (actions []string, scoped bool, ok bool) {
	g, ok := readGrants[typ]
	return g.actions, g.scope != anyResource, ok
}

// readsNothing reports whether a type's refresh reads nothing from AWS:
// the program's own components, Pulumi's, and GitHub's resources.
func readsNothing(typ string) bool {
	return strings.HasPrefix(typ, "ci-infra:") || strings.HasPrefix(typ, "pulumi:") || strings.HasPrefix(typ, "github:")
}

// PreviewScope is what the preview role may read, beyond the buckets and
// agent stacks and the state backend of the deploy's Scope: the resource
// types of the main stack (the plan's types: stacks keeps the list and a
// test keeps it equal to the plan's) and the objects it declares
// ("bucket/key").
type PreviewScope struct {
	Types   []string
	Objects []string
	// Project is the main stacks' project: the preview reads its state
	// under the backend's .pulumi/stacks/<project>/, not the secrets
	// stacks'.
	Project string
}

// StateBackend is an S3 state backend, parsed.
type StateBackend struct{ Bucket, Prefix string }

// ParseStateBackend reads an s3://bucket/prefix URL (the query, such as
// ?region=, is the CLI's). "" is no S3 backend.
func ParseStateBackend(raw string) (StateBackend, error) {
	if raw == "" {
		return StateBackend{}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		return StateBackend{}, fmt.Errorf("%q is not an S3 state backend URL such as s3://bucket/prefix", raw)
	}
	if err := bucket.ValidateName(u.Host); err != nil {
		return StateBackend{}, fmt.Errorf("state backend %q: %w", raw, err)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return StateBackend{Bucket: u.Host, Prefix: prefix}, nil
}

// stateObjects are the state objects a preview of project reads in the
// diy backend's layout (pulumi pkg/backend/diy: .pulumi/meta.yaml and
// .pulumi/stacks/<project>/<stack>.json), and the prefix it lists. A
// preview writes nothing there, not even a lock: apply in
// pkg/backend/diy/backend.go saves a snapshot and history only when it is
// not a dry run.
func (b StateBackend) stateObjects(project string) (objects []string, listPrefix string) {
	return []string{
		"arn:aws:s3:::" + b.Bucket + "/" + b.Prefix + ".pulumi/meta.yaml",
		"arn:aws:s3:::" + b.Bucket + "/" + b.Prefix + ".pulumi/stacks/" + project + "/*",
	}, b.Prefix + ".pulumi/*"
}

// PreviewPolicy is the preview role's grant: the read actions of each type
// the main stack declares, scoped to its own buckets, objects and agent
// stacks where IAM can scope them, and its own state. Nothing else: the
// role's boundary is ReadOnlyAccess, but this is what it holds.
func PreviewPolicy(s Scope, p PreviewScope) (policydoc.Document, error) {
	byScope := map[readScope][]string{}
	var unknown []string
	for _, typ := range p.Types {
		if readsNothing(typ) {
			continue
		}
		g, ok := readGrants[typ]
		if !ok {
			unknown = append(unknown, typ)
			continue
		}
		byScope[g.scope] = append(byScope[g.scope], g.actions...)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return policydoc.Document{}, fmt.Errorf("the preview role does not know what a refresh of %s reads: add each to readGrants (components/ciaccess/reads.go), citing the provider's read function", strings.Join(unknown, ", "))
	}
	state, err := ParseStateBackend(s.StateBackend)
	if err != nil {
		return policydoc.Document{}, err
	}
	var buckets, stacks, objects []string
	for _, b := range s.Buckets {
		buckets = append(buckets, s.arn("s3", b))
	}
	for _, name := range s.AgentStacks {
		stacks = append(stacks, s.arn("cloudformation", "stack/"+name+"/*"))
	}
	for _, o := range p.Objects {
		objects = append(objects, s.arn("s3", o))
	}
	var statements []policydoc.Statement
	add := func(sid string, scope readScope, resources []string) {
		actions := uniq(byScope[scope])
		if len(actions) > 0 && len(resources) > 0 {
			statements = append(statements, policydoc.Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources})
		}
	}
	add("ReadConfiguration", anyResource, []string{"*"})
	add("ReadOwnBuckets", ownBuckets, buckets)
	add("ReadOwnObjects", ownObjects, objects)
	add("ReadAgentStacks", ownStacks, stacks)
	if state.Bucket != "" {
		stateObjects, listPrefix := state.stateObjects(p.Project)
		statements = append(statements,
			policydoc.Statement{Sid: "ReadState", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: stateObjects},
			policydoc.Statement{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{"arn:aws:s3:::" + state.Bucket},
				Condition: map[string]map[string]any{"StringLike": {"s3:prefix": listPrefix}}},
		)
	}
	return policydoc.New(statements...), nil
}

// PreviewObjects are the objects the preview role may read: the program's
// own and its state. The deny list denies every other (previewDeny).
func PreviewObjects(s Scope, p PreviewScope) ([]string, error) {
	var out []string
	for _, o := range p.Objects {
		out = append(out, s.arn("s3", o))
	}
	state, err := ParseStateBackend(s.StateBackend)
	if err != nil {
		return nil, err
	}
	if state.Bucket != "" {
		objects, _ := state.stateObjects(p.Project)
		out = append(out, objects...)
	}
	return out, nil
}

func uniq(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}
