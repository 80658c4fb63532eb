// Package network owns the agents' VPC and the names that resolve in it:
// public subnets in several availability zones, the internet gateway and
// routes the agents need to reach Buildkite and GitHub, and an S3 gateway
// endpoint so that bucket traffic (bootstrap script, secrets, artifacts)
// stays inside AWS (network.go); and the private Route 53 zone associated
// with the VPC (zone.go). Every agent stack launches into it.
package network

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/label"
)

// TypeToken is the Pulumi type of the component.
const TypeToken = "ci-infra:network:Network"

// subnetBits is how many bits longer a subnet prefix is than the VPC's:
// a /16 VPC gets /20 subnets (4091 usable addresses each, 16 of them).
const subnetBits = 4

// Args configures a Network.
type Args struct {
	// CIDR is the VPC's IPv4 block, a /16 to /24 in private address space.
	CIDR string
	// AvailabilityZones get one public subnet each; the Elastic CI Stack
	// needs at least two.
	AvailabilityZones []string
	// Region is the AWS region, for the S3 endpoint's service name.
	Region string
	// Tags are added to every resource.
	Tags map[string]string
}

// Network is the agents' VPC.
type Network struct {
	pulumi.ResourceState

	VpcID     pulumi.StringOutput      `pulumi:"vpcId"`
	SubnetIDs pulumi.StringArrayOutput `pulumi:"subnetIds"`

	// The rest of what the network is made of, for the deploy role's
	// scope (ciaccess.OwnNetwork): it may change these and no others.
	// Not outputs of the component; nothing outside this program needs them.
	RouteTableID      pulumi.StringOutput
	InternetGatewayID pulumi.StringOutput
	EndpointID        pulumi.StringOutput
}

// Validate reports every problem of the arguments at once.
func (a Args) Validate() error {
	errs := []error{ValidateCIDR(a.CIDR)}
	if len(a.AvailabilityZones) > 1<<subnetBits {
		errs = append(errs, fmt.Errorf("at most %d availability zones fit the VPC", 1<<subnetBits))
	}
	if len(a.AvailabilityZones) < 2 {
		errs = append(errs, fmt.Errorf("need at least 2 availability zones, got %d", len(a.AvailabilityZones)))
	}
	seen := map[string]bool{}
	for _, az := range a.AvailabilityZones {
		if seen[az] {
			errs = append(errs, fmt.Errorf("availability zone %q is listed twice", az))
		}
		seen[az] = true
	}
	if a.Region == "" {
		errs = append(errs, errors.New("Region is required"))
	}
	return errors.Join(errs...)
}

// ValidateCIDR checks that cidr can hold the agents' VPC.
func ValidateCIDR(cidr string) error {
	vpc, err := netip.ParsePrefix(cidr)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not an IPv4 CIDR block such as 10.0.0.0/16", cidr)
	case !vpc.Addr().Is4() || !vpc.Addr().IsPrivate():
		return fmt.Errorf("%q must be in private IPv4 space (10/8, 172.16/12, 192.168/16)", cidr)
	case vpc.Bits() < 16 || vpc.Bits() > 24:
		return fmt.Errorf("%q must be a /16 to /24 (AWS allows /16 at most; subnets need room)", cidr)
	case vpc.Masked() != vpc:
		return fmt.Errorf("%q has host bits set; did you mean %s?", cidr, vpc.Masked())
	}
	return nil
}

// SubnetCIDR returns the index-th subnet of vpc that is newBits longer.
func SubnetCIDR(vpc netip.Prefix, newBits, index int) (netip.Prefix, error) {
	bits := vpc.Bits() + newBits
	if !vpc.Addr().Is4() || bits > 32 || index < 0 || index >= 1<<newBits {
		return netip.Prefix{}, fmt.Errorf("no subnet %d of /%d in %s", index, bits, vpc)
	}
	base := vpc.Masked().Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n += uint32(index) << (32 - bits)
	addr := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return netip.PrefixFrom(addr, bits), nil
}

// New declares the network.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	tagged := func(role string) pulumi.StringMap {
		return pulumi.ToStringMap(label.Merge(args.Tags, map[string]string{"Name": label.Name(name, role)}))
	}

	vpc, err := ec2.NewVpc(ctx, label.Name(name, "vpc"), &ec2.VpcArgs{
		CidrBlock: pulumi.String(args.CIDR),
		// A private hosted zone resolves only in VPCs with both turned on.
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tagged("vpc"),
	}, parent)
	if err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, label.Name(name, "igw"), &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tagged("igw"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// Agents poll Buildkite and clone from GitHub over the internet; a public
	// route avoids the cost of NAT gateways for instances that hold no
	// inbound ports open (the Elastic CI Stack's security group allows none
	// unless SSH is configured).
	routes, err := ec2.NewRouteTable(ctx, label.Name(name, "public-routes"), &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{
			&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()},
		},
		Tags: tagged("public-routes"),
	}, parent)
	if err != nil {
		return nil, err
	}

	prefix := netip.MustParsePrefix(args.CIDR) // validated above
	var subnetIDs pulumi.StringArray
	for i, az := range args.AvailabilityZones {
		cidr, err := SubnetCIDR(prefix, subnetBits, i)
		if err != nil {
			return nil, err
		}
		role := "public-" + az
		subnet, err := ec2.NewSubnet(ctx, label.Name(name, role), &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			CidrBlock:           pulumi.String(cidr.String()),
			AvailabilityZone:    pulumi.String(az),
			MapPublicIpOnLaunch: pulumi.Bool(true),
			Tags:                tagged(role),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, label.Name(name, role, "routes"), &ec2.RouteTableAssociationArgs{
			SubnetId:     subnet.ID(),
			RouteTableId: routes.ID(),
		}, parent); err != nil {
			return nil, err
		}
		subnetIDs = append(subnetIDs, subnet.ID().ToStringOutput())
	}

	endpoint, err := ec2.NewVpcEndpoint(ctx, label.Name(name, "s3-endpoint"), &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", args.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   pulumi.StringArray{routes.ID()},
		Tags:            tagged("s3-endpoint"),
	}, parent)
	if err != nil {
		return nil, err
	}
	n.RouteTableID = routes.ID().ToStringOutput()
	n.InternetGatewayID = igw.ID().ToStringOutput()
	n.EndpointID = endpoint.ID().ToStringOutput()

	n.VpcID = vpc.ID().ToStringOutput()
	n.SubnetIDs = subnetIDs.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{"vpcId": n.VpcID, "subnetIds": n.SubnetIDs}); err != nil {
		return nil, err
	}
	return n, nil
}
