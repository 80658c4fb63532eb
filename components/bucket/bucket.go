// Package bucket owns the program's S3 buckets and how one is served: the
// bucket component is one private-by-default, encrypted, TLS-only bucket
// with its public access block, ownership controls, policy (the one
// bucket-policy builder, policy.go), optional versioning, access logging,
// lifecycle rules and the objects the program uploads into it. Every bucket
// of the program (config, managed secrets, their access logs, downloads) is
// one of these, so the security settings are written once. The site
// component (site.go) serves the downloads bucket over HTTPS through
// CloudFront, the only reader its policy admits.
package bucket

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/label"
)

// TypeToken is the Pulumi type of the component. It is part of every child's
// URN: changing it needs pulumi.Aliases.
const TypeToken = "ci-infra:storage:Bucket"

// Object is a file the program uploads into the bucket.
type Object struct {
	// Key is the object key, e.g. "bootstrap.sh".
	Key string
	// Content is the object body. A secret input stays secret in state.
	Content pulumi.StringInput
	// ContentType defaults to "text/plain".
	ContentType string
}

// AccessLogs sends the bucket's server access logs to another bucket.
type AccessLogs struct {
	// Bucket is the name of the target bucket. It must accept log delivery
	// from this bucket (see Args.AcceptLogsFrom).
	Bucket pulumi.StringInput
	// Prefix is the key prefix of the log objects, e.g. "buildkite-managedsecrets/".
	Prefix string
}

// Args configures a Bucket.
type Args struct {
	// Name is the physical bucket name; it must follow S3's naming rules.
	Name string
	// ReaderDistributionARN, when set, lets that CloudFront distribution
	// (through its origin access control) read objects, and nothing else:
	// the downloads bucket, served over HTTPS. No bucket is public.
	ReaderDistributionARN pulumi.StringInput
	// Versioned keeps every version of every object, so an overwritten
	// secret or bootstrap script can be restored.
	Versioned bool
	// NoncurrentVersionDays deletes a version this many days after it was
	// replaced. 0 keeps old versions forever. Needs Versioned.
	NoncurrentVersionDays int
	// AccessLogs, when set, turns on server access logging.
	AccessLogs *AccessLogs
	// AcceptLogsFrom names the buckets allowed to deliver server access logs
	// into this bucket.
	AcceptLogsFrom []string
	// Objects are uploaded into the bucket.
	Objects []Object
	// Protect guards the bucket against `pulumi destroy` and replacement:
	// set it for every bucket that holds data.
	Protect bool
	// Tags are added to the bucket and its objects.
	Tags map[string]string
	// ImportID adopts an existing bucket (its name) instead of creating it.
	ImportID string
}

// Bucket is an S3 bucket with its security settings.
type Bucket struct {
	pulumi.ResourceState

	// Name is the physical bucket name.
	Name pulumi.StringOutput `pulumi:"name"`
	// Arn is the bucket's ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
	// ObjectURLs maps each uploaded key to its s3:// URL. The URL is derived
	// from the uploaded object, so whatever consumes it waits for the upload.
	ObjectURLs map[string]pulumi.StringOutput
	// ObjectARNs maps each uploaded key to its ARN.
	ObjectARNs map[string]pulumi.StringOutput
}

// Validate reports every problem of the arguments at once.
func (a Args) Validate() error {
	errs := []error{ValidateName(a.Name)}
	if a.NoncurrentVersionDays < 0 {
		errs = append(errs, fmt.Errorf("NoncurrentVersionDays must be >= 0, got %d", a.NoncurrentVersionDays))
	}
	if a.NoncurrentVersionDays > 0 && !a.Versioned {
		errs = append(errs, errors.New("NoncurrentVersionDays needs Versioned"))
	}
	if a.AccessLogs != nil && a.AccessLogs.Bucket == nil {
		errs = append(errs, errors.New("AccessLogs.Bucket is required when AccessLogs is set"))
	}
	for _, src := range a.AcceptLogsFrom {
		if err := ValidateName(src); err != nil {
			errs = append(errs, fmt.Errorf("AcceptLogsFrom: %w", err))
		}
	}
	errs = append(errs, a.validateObjects())
	return errors.Join(errs...)
}

// New declares the bucket named name (the logical name, e.g. "config").
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Bucket, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	b := &Bucket{
		ObjectURLs: map[string]pulumi.StringOutput{},
		ObjectARNs: map[string]pulumi.StringOutput{},
	}
	if err := ctx.RegisterComponentResource(TypeToken, name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)
	tags := pulumi.ToStringMap(args.Tags)

	bucketOpts := []pulumi.ResourceOption{parent, pulumi.Protect(args.Protect), adopt.Option(args.ImportID)}
	bucket, err := s3.NewBucketV2(ctx, label.Name(name, "bucket"), &s3.BucketV2Args{
		Bucket: pulumi.String(args.Name),
		// Never empty a bucket to delete it: its data outlives the program.
		ForceDestroy: pulumi.Bool(false),
		Tags:         tags,
	}, bucketOpts...)
	if err != nil {
		return nil, err
	}
	b.Name = bucket.ID().ToStringOutput()
	b.Arn = bucket.Arn

	// ACLs disabled: the bucket owner owns every object, and access is
	// decided by policies alone.
	if _, err := s3.NewBucketOwnershipControls(ctx, label.Name(name, "ownership"), &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent); err != nil {
		return nil, err
	}

	// All four flags on: no bucket is public.
	accessBlock, err := s3.NewBucketPublicAccessBlock(ctx, label.Name(name, "public-access-block"), &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}

	// SSE-S3: encrypted at rest with no key policy to manage, and the only
	// encryption S3 server access log delivery accepts.
	encryption, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, label.Name(name, "encryption"), &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("AES256"),
				},
			},
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	// Built from the name, not from bucket.Arn: the policy is then known at
	// preview time, where a policy pack can read it (a reader distribution's
	// ARN only after it exists).
	var policyJSON pulumi.StringInput
	if args.ReaderDistributionARN != nil {
		policyJSON = args.ReaderDistributionARN.ToStringOutput().ApplyT(func(reader string) (string, error) {
			return Policy(ARN(args.Name), reader, args.AcceptLogsFrom).JSON()
		}).(pulumi.StringOutput)
	} else {
		static, err := Policy(ARN(args.Name), "", args.AcceptLogsFrom).JSON()
		if err != nil {
			return nil, err
		}
		policyJSON = pulumi.String(static)
	}
	// The public access block is in place before the policy.
	if _, err := s3.NewBucketPolicy(ctx, label.Name(name, "policy"), &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: policyJSON,
	}, parent, pulumi.DependsOn([]pulumi.Resource{accessBlock})); err != nil {
		return nil, err
	}

	var versioning *s3.BucketVersioningV2
	if args.Versioned {
		versioning, err = s3.NewBucketVersioningV2(ctx, label.Name(name, "versioning"), &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, parent)
		if err != nil {
			return nil, err
		}
	}

	if args.AccessLogs != nil {
		if _, err := s3.NewBucketLoggingV2(ctx, label.Name(name, "access-logs"), &s3.BucketLoggingV2Args{
			Bucket:       bucket.ID(),
			TargetBucket: args.AccessLogs.Bucket,
			TargetPrefix: pulumi.String(args.AccessLogs.Prefix),
		}, parent); err != nil {
			return nil, err
		}
	}

	if err := newLifecycle(ctx, name, bucket, versioning, args, parent); err != nil {
		return nil, err
	}

	for _, o := range args.Objects {
		contentType := o.ContentType
		if contentType == "" {
			contentType = "text/plain"
		}
		obj, err := s3.NewBucketObjectv2(ctx, label.Name(name, o.Key), &s3.BucketObjectv2Args{
			Bucket:      bucket.ID(),
			Key:         pulumi.String(o.Key),
			Content:     o.Content,
			ContentType: pulumi.String(contentType),
			Tags:        tags,
		}, parent, pulumi.DependsOn([]pulumi.Resource{encryption}))
		if err != nil {
			return nil, err
		}
		b.ObjectURLs[o.Key] = pulumi.Sprintf("s3://%s/%s", obj.Bucket, obj.Key)
		// Known at preview time, like the policy: derived from the name.
		b.ObjectARNs[o.Key] = pulumi.String(ARN(args.Name) + "/" + o.Key).ToStringOutput()
	}

	outputs := pulumi.Map{"name": b.Name, "arn": b.Arn}
	for key, url := range b.ObjectURLs {
		outputs["object:"+key] = url
	}
	if err := ctx.RegisterResourceOutputs(b, outputs); err != nil {
		return nil, err
	}
	return b, nil
}

// newLifecycle expires abandoned multipart uploads on every bucket and, when
// asked, old versions of replaced objects.
func newLifecycle(ctx *pulumi.Context, name string, bucket *s3.BucketV2, versioning *s3.BucketVersioningV2, args Args, parent pulumi.ResourceOption) error {
	rules := s3.BucketLifecycleConfigurationV2RuleArray{
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("abort-incomplete-multipart-uploads"),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(7),
			},
		},
	}
	if args.NoncurrentVersionDays > 0 {
		rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("expire-noncurrent-versions"),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(args.NoncurrentVersionDays),
			},
		})
	}
	opts := []pulumi.ResourceOption{parent}
	if versioning != nil {
		// S3 rejects noncurrent-version rules until versioning is on.
		opts = append(opts, pulumi.DependsOn([]pulumi.Resource{versioning}))
	}
	_, err := s3.NewBucketLifecycleConfigurationV2(ctx, label.Name(name, "lifecycle"), &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  rules,
	}, opts...)
	return err
}

// validateObjects checks the objects' keys and contents.
func (a Args) validateObjects() error {
	var errs []error
	seen := map[string]bool{}
	for _, o := range a.Objects {
		switch {
		case o.Key == "":
			errs = append(errs, errors.New("an object has an empty Key"))
		case seen[o.Key]:
			errs = append(errs, fmt.Errorf("object key %q is listed twice", o.Key))
		case o.Content == nil:
			errs = append(errs, fmt.Errorf("object %q has no Content", o.Key))
		}
		seen[o.Key] = true
	}
	return errors.Join(errs...)
}
