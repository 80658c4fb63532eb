package adopt

import (
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plantest"
)

func TestOption(t *testing.T) {
	for _, id := range []string{"", "Z0123456789ABC"} {
		p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
			_, err := route53.NewZone(ctx, "zone", &route53.ZoneArgs{Name: pulumi.String("example.com")}, Option(id))
			return err
		}), nil)
		z, err := p.Get("aws:route53/zone:Zone", "zone")
		require.NoError(t, err)
		assert.Equal(t, id, z.ImportID)
	}
}
