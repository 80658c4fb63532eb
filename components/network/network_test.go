package network

import (
	"net/netip"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestSubnetCIDR(t *testing.T) {
	tests := []struct {
		vpc     string
		bits    int
		index   int
		want    string
		wantErr bool
	}{
		{"10.0.0.0/16", 4, 0, "10.0.0.0/20", false},
		{"10.0.0.0/16", 4, 1, "10.0.16.0/20", false},
		{"10.0.0.0/16", 4, 15, "10.0.240.0/20", false},
		{"10.0.0.0/16", 4, 16, "", true},
		{"192.168.4.0/24", 4, 3, "192.168.4.48/28", false},
		{"10.0.0.0/30", 4, 0, "", true},
	}
	for _, tt := range tests {
		got, err := SubnetCIDR(netip.MustParsePrefix(tt.vpc), tt.bits, tt.index)
		if tt.wantErr {
			assert.Error(t, err, "%s #%d", tt.vpc, tt.index)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got.String(), "%s #%d", tt.vpc, tt.index)
	}
}

func TestValidateCIDR(t *testing.T) {
	tests := []struct {
		cidr    string
		wantErr string
	}{
		{"10.0.0.0/16", ""},
		{"172.16.0.0/20", ""},
		{"not-a-cidr", "not an IPv4 CIDR"},
		{"8.8.0.0/16", "private"},
		{"10.0.0.0/8", "/16 to /24"},
		{"10.0.0.0/28", "/16 to /24"},
		{"10.0.1.0/16", "host bits"},
	}
	for _, tt := range tests {
		err := ValidateCIDR(tt.cidr)
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.cidr)
		} else if assert.Error(t, err, tt.cidr) {
			assert.Contains(t, err.Error(), tt.wantErr)
		}
	}
}

func TestNetwork(t *testing.T) {
	p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "net", Args{CIDR: "10.0.0.0/16", AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"}, Region: "eu-west-1"})
		return err
	}), nil)

	vpc, err := p.Get("aws:ec2/vpc:Vpc", "net-vpc")
	require.NoError(t, err)
	assert.Equal(t, true, vpc.Input("enableDnsSupport"), "a private zone needs VPC DNS")
	assert.Equal(t, true, vpc.Input("enableDnsHostnames"), "a private zone needs VPC DNS")

	subnets := p.Find("aws:ec2/subnet:Subnet", "")
	require.Len(t, subnets, 2)
	zones := map[any]bool{}
	for _, s := range subnets {
		zones[s.Input("availabilityZone")] = true
		assert.Equal(t, true, s.Input("mapPublicIpOnLaunch"))
	}
	assert.Len(t, zones, 2, "one subnet per zone")
	assert.Len(t, p.Find("aws:ec2/routeTableAssociation:RouteTableAssociation", ""), 2)

	routes, err := p.Get("aws:ec2/routeTable:RouteTable", "net-public-routes")
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0/0", routes.Input("routes").([]any)[0].(map[string]any)["cidrBlock"])

	endpoint, err := p.Get("aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3-endpoint")
	require.NoError(t, err)
	assert.Equal(t, "com.amazonaws.eu-west-1.s3", endpoint.Input("serviceName"))
	assert.Equal(t, "Gateway", endpoint.Input("vpcEndpointType"))
}

func TestInvalidArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    Args
		wantErr string
	}{
		{"one zone", Args{CIDR: "10.0.0.0/16", AvailabilityZones: []string{"us-east-1a"}, Region: "us-east-1"}, "at least 2"},
		{"duplicate zone", Args{CIDR: "10.0.0.0/16", AvailabilityZones: []string{"us-east-1a", "us-east-1a"}, Region: "us-east-1"}, "twice"},
		{"public cidr", Args{CIDR: "8.8.0.0/16", AvailabilityZones: []string{"us-east-1a", "us-east-1b"}, Region: "us-east-1"}, "private"},
		{"no region", Args{CIDR: "10.0.0.0/16", AvailabilityZones: []string{"us-east-1a", "us-east-1b"}}, "Region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plantest.Rejects(t, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "net", tt.args)
				return err
			}, tt.wantErr)
		})
	}
}
