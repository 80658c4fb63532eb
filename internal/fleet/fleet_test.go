package fleet_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/cost"
	"mtrlz.dev/ci-infra/internal/fleet"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testenv"
)

func options() fleet.Options {
	return fleet.DefaultOptions(func(string) (float64, error) { return 1, nil }, 0.4)
}

// stack is a template-default stack (v6.71.1 defaults) on queue q.
func stack(name, q string, minSize, maxSize int) fleet.Stack {
	return fleet.Stack{Stack: cost.Stack{Name: name, InstanceTypes: []string{"c5.2xlarge"}, MinSize: minSize, MaxSize: maxSize,
		OnDemandPercentage: 100}, Queue: q, ScaleInIdleSeconds: 600, DisableScaleIn: true, ScaleInProtection: true,
		ScaleInCooldown: 3600, ScaleOutCooldown: 300}
}

func simulate(t *testing.T, stacks []fleet.Stack, jobs []fleet.Job) fleet.Result {
	t.Helper()
	res, err := fleet.Simulate(stacks, jobs, options())
	require.NoError(t, err)
	return res
}

// aws-stack.yml v6.71.1, HasVariableSize: no scaler when MinSize = MaxSize,
// so queued work never adds an instance.
func TestAFixedStackHasNoScaler(t *testing.T) {
	res := simulate(t, []fleet.Stack{stack("fixed", "q", 1, 1)}, []fleet.Job{{0, 600, "q"}, {0, 600, "q"}})
	assert.Greater(t, res.Queues[0].MeanWaitSeconds, 250.0, "the second job waits for the only instance")
}

// scaler.go Run: desired = scheduled + running, capped at MaxSize; the
// instance then boots (BootSeconds) before it takes a job.
func TestScaleOutFromQueueDepthAndBootTime(t *testing.T) {
	res := simulate(t, []fleet.Stack{stack("s", "q", 0, 3)}, []fleet.Job{{0, 600, "q"}, {0, 600, "q"}, {0, 600, "q"}})
	q := res.Queues[0]
	assert.Equal(t, 0.0, q.WarmBuildShare, "three cold instances")
	assert.InDelta(t, 180, q.P95WaitSeconds, 20, "each job waits for a boot, not for another job")
}

// scaler.go scaleOut: ScaleOutCooldownPeriod between two scale-outs.
func TestScaleOutCooldown(t *testing.T) {
	s := stack("s", "q", 0, 5)
	jobs := []fleet.Job{{0, 3600, "q"}, {120, 3600, "q"}}
	res := simulate(t, []fleet.Stack{s}, jobs)
	assert.Greater(t, res.Queues[0].P95WaitSeconds, 300.0, "the second job waits out the cooldown")
	s.ScaleOutCooldown = 0
	res = simulate(t, []fleet.Stack{s}, jobs)
	assert.Less(t, res.Queues[0].P95WaitSeconds, 250.0)
}

// A long job, then a short one on a second instance; when the short one
// ends the scaler wants one instance, and the ASG's victim is the one
// closest to its next instance hour: the older, busy one.
var scaleInJobs = []fleet.Job{{0, 7200, "q"}, {1000, 120, "q"}}

// scaler.go scaleIn: nothing when DisableScaleIn (unless Elastic CI mode);
// otherwise the ASG picks the victim, ClosestToNextInstanceHour, and a
// protected instance is never picked.
func TestScaleInKillsOnlyWhatTheASGMayPick(t *testing.T) {
	s := stack("s", "q", 0, 2)
	s.ScaleInIdleSeconds, s.ScaleInCooldown = 0, 0
	tests := []struct {
		name                      string
		disable, protect, elastic bool
		wantKilled                bool
	}{
		{"the template's defaults: scale-in disabled, protected", true, true, false, false},
		{"scale-in on, protected: the ASG may pick none", false, true, false, false},
		{"scale-in on, unprotected: the ASG picks the busy one", false, false, false, true},
		{"Elastic CI mode: the oldest drains after its job", true, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.DisableScaleIn, s.ScaleInProtection, s.ElasticCIMode = tt.disable, tt.protect, tt.elastic
			res := simulate(t, []fleet.Stack{s}, scaleInJobs)
			assert.Equal(t, tt.wantKilled, res.Stacks[0].KilledJobs > 0)
		})
	}
}

// scripts/terminate-instance (v6.71.1): an idle instance leaves; at
// desired == MinSize the decrement fails and the ASG launches a cold
// replacement, so a min-1 stack with an idle timeout loses its cache.
func TestIdleSelfTerminationAtMinSizeLosesTheCache(t *testing.T) {
	jobs := []fleet.Job{{300, 60, "q"}, {3000, 60, "q"}}
	idle := stack("s", "q", 1, 1)
	res := simulate(t, []fleet.Stack{idle}, jobs)
	assert.Equal(t, 0.0, res.Queues[0].WarmBuildShare, "the replacement is cold")
	idle.ScaleInIdleSeconds = 0
	res = simulate(t, []fleet.Stack{idle}, jobs)
	assert.Equal(t, 0.5, res.Queues[0].WarmBuildShare, "kept: the second job runs warm")
}

// Spot instances are reclaimed now and then; the job on one dies.
func TestSpotInterruptionsKillJobs(t *testing.T) {
	var jobs []fleet.Job
	for i := range 3000 {
		jobs = append(jobs, fleet.Job{Start: i * 3600, Duration: 3500, Queue: "q"})
	}
	s := stack("s", "q", 1, 1)
	s.ScaleInIdleSeconds = 0
	assert.Zero(t, simulate(t, []fleet.Stack{s}, jobs).Stacks[0].KilledJobs, "on demand")
	s.OnDemandPercentage = 0
	assert.Positive(t, simulate(t, []fleet.Stack{s}, jobs).Stacks[0].KilledJobs, "spot")
}

// prodStacks reads the agent stacks of prod's committed plan.
func prodStacks(t *testing.T, overrides map[string]string) []fleet.Stack {
	t.Helper()
	p, err := plan.ReadDocument(testenv.ProdPlan(t))
	require.NoError(t, err)
	ss, err := fleet.StacksOf(p, "v6.71.1", overrides)
	require.NoError(t, err)
	return ss
}

func prodPrices() fleet.Options {
	return fleet.DefaultOptions(func(t string) (float64, error) { return cost.HourlyPrice("us-east-1", t) }, cost.SpotPriceRatio)
}

// Issue 12's bar, on the sample trace: the builders' old settings (one
// min-1/max-2 group, scale-in on, unprotected) kill jobs; production's do
// not, keep the builders warm, and cost no more idle than one builder.
func TestProductionOnTheSampleTrace(t *testing.T) {
	jobs, err := fleet.ParseTrace(fleet.SampleCSV)
	require.NoError(t, err)

	chosen, err := fleet.Simulate(prodStacks(t, nil), jobs, prodPrices())
	require.NoError(t, err)
	for _, s := range chosen.Stacks {
		assert.Zero(t, s.KilledJobs, "%s kills no job", s.Name)
	}
	for _, q := range chosen.Queues {
		if q.Queue == "builders" {
			assert.GreaterOrEqual(t, q.WarmBuildShare, 0.9, "builds run warm")
		}
	}

	old := prodStacks(t, map[string]string{
		"buildkite-builders.MaxSize": "2", "buildkite-builders.DisableScaleIn": "false",
		"buildkite-builders.InstanceScaleInProtection": "false",
	})
	before, err := fleet.Simulate(old, jobs, prodPrices())
	require.NoError(t, err)
	killed := 0
	for _, s := range before.Stacks {
		killed += s.KilledJobs
	}
	assert.Positive(t, killed, "the old builders' settings kill running builds")
}

func TestSampleTraceFileIsTheGenerator(t *testing.T) {
	raw, err := os.ReadFile("sample-trace.csv")
	require.NoError(t, err)
	assert.Equal(t, fleet.FormatTrace(fleet.SampleTrace()), string(raw), "regenerate sample-trace.csv from SampleTrace")
	jobs, err := fleet.ParseTrace(string(raw))
	require.NoError(t, err)
	assert.Len(t, jobs, len(fleet.SampleTrace()))
}

// The bound is on the CPU time the replay uses, not on the wall clock: CI
// runs packages side by side on two cores, and a busy machine must not
// fail a replay that does no more work than before.
func TestAMonthReplaysInUnderTwoSeconds(t *testing.T) {
	jobs, err := fleet.ParseTrace(fleet.SampleCSV)
	require.NoError(t, err)
	ss := prodStacks(t, nil)
	before := cpuTime(t)
	_, err = fleet.Simulate(ss, jobs, prodPrices())
	require.NoError(t, err)
	assert.Less(t, cpuTime(t)-before, 2*time.Second, "CPU time of a month's replay")
}

// cpuTime is the user and system time this test process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestParseTraceRefusesMalformedLines(t *testing.T) {
	for _, bad := range []string{"10,default", "x,default,10", "10,,10", "10,default,0", "-1,default,5"} {
		_, err := fleet.ParseTrace(bad)
		assert.Error(t, err, bad)
	}
}
