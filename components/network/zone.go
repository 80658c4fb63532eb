package network

// The private Route 53 hosted zone of the agents' VPC (internal.mtrlz.dev
// in production): its records resolve only from instances launched into
// that VPC.

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/components/label"
)

// ZoneTypeToken is the Pulumi type of the zone component.
const ZoneTypeToken = "ci-infra:dns:PrivateZone"

// ZoneArgs configures the zone.
type ZoneArgs struct {
	// Name is the zone's domain, e.g. "internal.mtrlz.dev".
	Name string
	// VpcID is the VPC whose instances may resolve the zone.
	VpcID pulumi.StringInput
	// Region is the VPC's region.
	Region string
	// Tags are added to the zone.
	Tags map[string]string
	// ImportID adopts an existing zone (its ID) with its records.
	ImportID string
}

// PrivateZone is the hosted zone.
type PrivateZone struct {
	pulumi.ResourceState

	ZoneID pulumi.StringOutput `pulumi:"zoneId"`
}

// Validate reports every problem of the arguments at once.
func (a ZoneArgs) Validate() error {
	errs := []error{ident.ValidateDomain(a.Name)}
	if a.VpcID == nil {
		errs = append(errs, errors.New("VpcID is required: a private zone belongs to a VPC"))
	}
	if a.Region == "" {
		errs = append(errs, errors.New("Region is required"))
	}
	return errors.Join(errs...)
}

// NewZone declares the zone. It is protected: deleting it deletes its records.
func NewZone(ctx *pulumi.Context, name string, args ZoneArgs, opts ...pulumi.ResourceOption) (*PrivateZone, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("private zone %s: %w", name, err)
	}
	z := &PrivateZone{}
	if err := ctx.RegisterComponentResource(ZoneTypeToken, name, z, opts...); err != nil {
		return nil, err
	}
	zone, err := route53.NewZone(ctx, label.Name(name, "zone"), &route53.ZoneArgs{
		Name:    pulumi.String(args.Name),
		Comment: pulumi.String("Private zone of the Buildkite agents' VPC; managed by Pulumi."),
		Vpcs: route53.ZoneVpcArray{
			&route53.ZoneVpcArgs{VpcId: args.VpcID, VpcRegion: pulumi.String(args.Region)},
		},
		ForceDestroy: pulumi.Bool(false),
		Tags:         pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(z), pulumi.Protect(true), adopt.Option(args.ImportID))
	if err != nil {
		return nil, err
	}
	z.ZoneID = zone.ZoneId
	if err := ctx.RegisterResourceOutputs(z, pulumi.Map{"zoneId": z.ZoneID}); err != nil {
		return nil, err
	}
	return z, nil
}
