package bucket

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/label"
)

// ObjectsTypeToken is the Pulumi type of a set of objects written into a
// bucket that another stack owns.
const ObjectsTypeToken = "ci-infra:storage:BucketObjects"

// ObjectsArgs configures objects in an existing bucket.
type ObjectsArgs struct {
	// Bucket is the bucket's name (it must exist).
	Bucket string
	// Objects are written into it.
	Objects []Object
	// Adopt imports each object that already exists (ID bucket/key)
	// instead of creating it: a stack taking the objects over from another.
	Adopt bool
	// Tags are added to each object.
	Tags map[string]string
}

// Validate reports every problem of the arguments at once.
func (a ObjectsArgs) Validate() error {
	errs := []error{ValidateName(a.Bucket)}
	if len(a.Objects) == 0 {
		errs = append(errs, errors.New("Objects is empty"))
	}
	errs = append(errs, Args{Name: a.Bucket, Objects: a.Objects}.validateObjects())
	return errors.Join(errs...)
}

// Objects is the set of objects.
type Objects struct {
	pulumi.ResourceState
}

// NewObjects writes the objects into the bucket.
func NewObjects(ctx *pulumi.Context, name string, args ObjectsArgs, opts ...pulumi.ResourceOption) (*Objects, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("bucket objects %s: %w", name, err)
	}
	o := &Objects{}
	if err := ctx.RegisterComponentResource(ObjectsTypeToken, name, o, opts...); err != nil {
		return nil, err
	}
	for _, obj := range args.Objects {
		contentType := obj.ContentType
		if contentType == "" {
			contentType = "text/plain"
		}
		importID := ""
		if args.Adopt {
			importID = args.Bucket + "/" + obj.Key
		}
		if _, err := s3.NewBucketObjectv2(ctx, label.Name(name, obj.Key), &s3.BucketObjectv2Args{
			Bucket:      pulumi.String(args.Bucket),
			Key:         pulumi.String(obj.Key),
			Content:     obj.Content,
			ContentType: pulumi.String(contentType),
			Tags:        pulumi.ToStringMap(args.Tags),
		}, pulumi.Parent(o), adopt.Option(importID)); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{}); err != nil {
		return nil, err
	}
	return o, nil
}
