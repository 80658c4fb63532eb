package cost_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/cost"
)

func TestEstimate(t *testing.T) {
	tests := []struct {
		name                  string
		stack                 cost.Stack
		wantIdle, wantPeak    float64
		wantType              string
		wantPerInstanceHourly float64
	}{
		{"test agents scale to zero", cost.Stack{Name: "buildkite", InstanceTypes: []string{"c5.2xlarge"}, MinSize: 0, MaxSize: 10, OnDemandPercentage: 100}, 0, 2482, "c5.2xlarge", 0.34},
		{"builders keep one warm", cost.Stack{Name: "buildkite-builders", InstanceTypes: []string{"c5.2xlarge"}, MinSize: 1, MaxSize: 2, OnDemandPercentage: 100}, 248.2, 496.4, "c5.2xlarge", 0.34},
		{"half spot", cost.Stack{Name: "s", InstanceTypes: []string{"c5.2xlarge"}, MinSize: 1, MaxSize: 1, OnDemandPercentage: 50}, 173.74, 173.74, "c5.2xlarge", 0.238},
		{"all spot", cost.Stack{Name: "s", InstanceTypes: []string{"c5.2xlarge"}, MinSize: 1, MaxSize: 1, OnDemandPercentage: 0}, 99.28, 99.28, "c5.2xlarge", 0.136},
		{"dearest type prices the stack", cost.Stack{Name: "s", InstanceTypes: []string{"c6a.2xlarge", "m5.2xlarge"}, MinSize: 1, MaxSize: 1, OnDemandPercentage: 100}, 280.32, 280.32, "m5.2xlarge", 0.384},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := cost.Estimate("us-east-1", []cost.Stack{tt.stack})
			require.NoError(t, err)
			c := r.Stacks[tt.stack.Name]
			assert.Equal(t, tt.wantType, c.InstanceType)
			assert.InDelta(t, tt.wantPerInstanceHourly, c.HourlyWithSpotShare, 1e-9)
			assert.InDelta(t, tt.wantIdle, c.IdleMonthly, 0.005)
			assert.InDelta(t, tt.wantPeak, c.PeakMonthly, 0.005)
			assert.InDelta(t, float64(tt.stack.MinSize*730), c.IdleInstanceHours, 0)
			assert.InDelta(t, float64(tt.stack.MaxSize*730), c.PeakInstanceHours, 0)
			assert.Equal(t, "USD", r.Currency)
		})
	}
}

func TestEstimateRefusesWhatItCannotPrice(t *testing.T) {
	_, err := cost.Estimate("us-east-1", []cost.Stack{{Name: "s", InstanceTypes: []string{"z9.mega"}, MaxSize: 1, OnDemandPercentage: 100}})
	assert.ErrorContains(t, err, "has no price")
	_, err = cost.Estimate("ap-south-2", []cost.Stack{{Name: "s", InstanceTypes: []string{"c5.2xlarge"}, MaxSize: 1, OnDemandPercentage: 100}})
	assert.ErrorContains(t, err, "not in the price table")
}

func TestReportText(t *testing.T) {
	r, err := cost.Estimate("us-east-1", []cost.Stack{
		{Name: "buildkite-builders", InstanceTypes: []string{"c5.2xlarge"}, MinSize: 1, MaxSize: 2, OnDemandPercentage: 100},
	})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, r.WriteText(&out))
	assert.Contains(t, out.String(), "buildkite-builders")
	assert.Contains(t, out.String(), "248.20", "idle: one builder all month")
	assert.Contains(t, out.String(), "496.40", "peak: two")
}
