package cost

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "mtrlz.dev/ci-infra/internal/testkit/testenv" // registers -update for `go test ./... -update`
)

func TestHourlyPrice(t *testing.T) {
	tests := []struct {
		region, instanceType string
		want                 float64
		wantErr              string
	}{
		{"us-east-1", "c5.2xlarge", 0.34, ""},
		{"eu-west-1", "c5.2xlarge", 0.384, ""},
		{"us-east-1", "z9.mega", 0, "has no price"},
		{"ap-south-2", "c5.2xlarge", 0, "not in the price table"},
	}
	for _, tt := range tests {
		got, err := HourlyPrice(tt.region, tt.instanceType)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Zero(t, got, "an unknown price is an error, never zero")
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
}

func TestSeedMonthlyFigure(t *testing.T) {
	// The seed: c5.2xlarge "cost approximately $250 per month".
	usd, err := HourlyPrice("us-east-1", "c5.2xlarge")
	require.NoError(t, err)
	assert.InDelta(t, 250, usd*HoursPerMonth, 5)
}
