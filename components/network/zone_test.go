package network

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestZoneIsPrivateToTheVPCAndProtected(t *testing.T) {
	p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		_, err := NewZone(ctx, "internal-zone", ZoneArgs{Name: "internal.example.com", VpcID: pulumi.String("vpc-1"), Region: "us-east-1"})
		return err
	}), nil)
	z, err := p.Get("aws:route53/zone:Zone", "internal-zone-zone")
	require.NoError(t, err)
	assert.True(t, z.Protect, "deleting the zone deletes its records")
	assert.Equal(t, "internal.example.com", z.Input("name"))
	assert.Equal(t, []any{map[string]any{"vpcId": "vpc-1", "vpcRegion": "us-east-1"}}, z.Input("vpcs"))
	assert.Equal(t, false, z.Input("forceDestroy"))
}
