package fleet_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/agentstack"
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
	res := simulate(t, []fleet.Stack{stack("fixed", "q", 1, 1)}, []fleet.Job{{Start: 0, Duration: 600, Queue: "q"}, {Start: 0, Duration: 600, Queue: "q"}})
	assert.Greater(t, res.Queues[0].MeanWaitSeconds, 250.0, "the second job waits for the only instance")
}

// scaler.go Run: desired = scheduled + running, capped at MaxSize; the
// instance then boots (BootSeconds) before it takes a job.
func TestScaleOutFromQueueDepthAndBootTime(t *testing.T) {
	res := simulate(t, []fleet.Stack{stack("s", "q", 0, 3)}, []fleet.Job{{Start: 0, Duration: 600, Queue: "q"}, {Start: 0, Duration: 600, Queue: "q"}, {Start: 0, Duration: 600, Queue: "q"}})
	q := res.Queues[0]
	assert.Equal(t, 0.0, q.WarmBuildShare, "three cold instances")
	assert.InDelta(t, 180, q.P95WaitSeconds, 20, "each job waits for a boot, not for another job")
}

// scaler.go scaleOut: ScaleOutCooldownPeriod between two scale-outs.
func TestScaleOutCooldown(t *testing.T) {
	s := stack("s", "q", 0, 5)
	jobs := []fleet.Job{{Start: 0, Duration: 3600, Queue: "q"}, {Start: 120, Duration: 3600, Queue: "q"}}
	res := simulate(t, []fleet.Stack{s}, jobs)
	assert.Greater(t, res.Queues[0].P95WaitSeconds, 300.0, "the second job waits out the cooldown")
	s.ScaleOutCooldown = 0
	res = simulate(t, []fleet.Stack{s}, jobs)
	assert.Less(t, res.Queues[0].P95WaitSeconds, 250.0)
}

// A long job, then a short one on a second instance; when the short one
// ends the scaler wants one instance, and the ASG's victim is the one
// closest to its next instance hour: the older, busy one.
var scaleInJobs = []fleet.Job{{Start: 0, Duration: 7200, Queue: "q"}, {Start: 1000, Duration: 120, Queue: "q"}}

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
	jobs := []fleet.Job{{Start: 300, Duration: 60, Queue: "q"}, {Start: 3000, Duration: 60, Queue: "q"}}
	idle := stack("s", "q", 1, 1)
	res := simulate(t, []fleet.Stack{idle}, jobs)
	assert.Equal(t, 0.5, res.Queues[0].WarmBuildShare, "the first job runs on the warm instance; its replacement is cold")
	idle.ScaleInIdleSeconds = 0
	res = simulate(t, []fleet.Stack{idle}, jobs)
	assert.Equal(t, 1.0, res.Queues[0].WarmBuildShare, "kept: both run warm")
}

// Spot instances are reclaimed now and then; the job on one dies.
func TestSpotInterruptionsKillJobs(t *testing.T) {
	var jobs []fleet.Job
	for i := range 3000 {
		jobs = append(jobs, fleet.Job{Start: i * 3600, Duration: 3500, Queue: "q"})
	}
	s := stack("s", "q", 1, 1)
	s.ScaleInIdleSeconds = 0
	assert.Zero(t, simulate(t, []fleet.Stack{s}, jobs).Stacks[0].InterruptedJobs, "on demand")
	s.OnDemandPercentage = 0
	res := simulate(t, []fleet.Stack{s}, jobs)
	assert.Positive(t, res.Stacks[0].InterruptedJobs, "spot")
	assert.Zero(t, res.Stacks[0].KilledJobs, "an interruption is not a scale-in's kill")
	assert.Equal(t, res.Queues[0].InterruptedJobs, res.Queues[0].RetriedJobs, "pipeline.yml's rules retry every interruption")
	assert.Zero(t, res.Queues[0].UnservedJobs, "every interrupted job ran again")
	s.SpotAllocationStrategy = "lowest-price"
	assert.Greater(t, simulate(t, []fleet.Stack{s}, jobs).Stacks[0].InterruptedJobs, res.Stacks[0].InterruptedJobs, "lowest-price is reclaimed more often")
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
}

// Issue 21's bar, on both shipped traces: prod's settings keep the p95
// wait in working hours at 60 s or less on default and builders, cost no
// more than the settings before them (docs/fleet/candidates.json's first
// candidate), kill no job, and retry every spot interruption.
func TestProductionMeetsTheWaitAtTodaysCost(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "docs", "fleet", "candidates.json"))
	require.NoError(t, err)
	var candidates []struct {
		Name string
		Set  map[string]string
	}
	require.NoError(t, json.Unmarshal(raw, &candidates))
	require.Equal(t, "before", candidates[0].Name)
	for name, csv := range map[string]string{"sample": fleet.SampleCSV, "bursty": fleet.BurstyCSV} {
		t.Run(name, func(t *testing.T) {
			jobs, err := fleet.ParseTrace(csv)
			require.NoError(t, err)
			before, err := fleet.Simulate(prodStacks(t, candidates[0].Set), jobs, prodPrices())
			require.NoError(t, err)
			prod, err := fleet.Simulate(prodStacks(t, nil), jobs, prodPrices())
			require.NoError(t, err)
			assert.LessOrEqual(t, prod.TotalMonthlyCostUSD, before.TotalMonthlyCostUSD)
			for _, q := range prod.Queues {
				if q.Queue == "default" || q.Queue == "builders" {
					assert.LessOrEqual(t, q.WorkingHours.P95WaitSeconds, 60.0, "%s p95 in working hours", q.Queue)
				}
				assert.Zero(t, q.KilledJobs, q.Queue)
				assert.Equal(t, q.InterruptedJobs, q.RetriedJobs, q.Queue)
				assert.Zero(t, q.UnservedJobs, q.Queue)
			}
		})
	}
}

func TestSampleTraceFileIsTheGenerator(t *testing.T) {
	raw, err := os.ReadFile("sample-trace.csv")
	require.NoError(t, err)
	assert.Equal(t, fleet.FormatTrace(fleet.SampleTrace()), string(raw), "regenerate sample-trace.csv from SampleTrace")
	assert.Equal(t, fleet.FormatTrace(fleet.BurstyTrace()), fleet.BurstyCSV, "regenerate bursty-trace.csv from BurstyTrace")
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

// Defect 1: a job that never starts counts, with the time it waited until
// the end of the replay; it no longer reads as no wait at all.
func TestAnUnservedJobCountsAsWaiting(t *testing.T) {
	res := simulate(t, []fleet.Stack{stack("deploy", "deploy", 0, 0)}, []fleet.Job{{Start: 0, Duration: 60, Queue: "deploy"}})
	q := res.Queues[0]
	assert.Equal(t, 1, q.UnservedJobs)
	assert.Greater(t, q.P95WaitSeconds, 3600.0, "it waited the whole replay")
}

// Defects 2 and 5 (scaler.go, scaling_calculator.go 1.12.0): the count of
// instances the scaler wants. InstanceBuffer only while some job needs an
// agent; waiting jobs only with ScaleOutForWaitingJobs; the availability
// boost while fewer than half the live instances have an agent online.
func TestTheScalersCount(t *testing.T) {
	s := stack("s", "q", 0, 10)
	buffered := s
	buffered.InstanceBuffer = 1
	forWaiting := s
	forWaiting.ScaleOutForWaitingJobs = true
	tests := []struct {
		name                                      string
		s                                         fleet.Stack
		scheduled, waiting, running, online, live int
		want                                      int
	}{
		{"nothing to do", s, 0, 0, 0, 0, 0, 0},
		{"a buffer with no job adds nothing", buffered, 0, 0, 0, 0, 0, 0},
		{"a buffer while a job runs", buffered, 0, 0, 1, 1, 1, 2},
		{"scheduled and running", s, 2, 0, 3, 3, 3, 5},
		{"waiting jobs are not counted by default", s, 0, 4, 0, 0, 0, 0},
		{"waiting jobs counted with ScaleOutForWaitingJobs", forWaiting, 0, 4, 0, 0, 0, 4},
		{"the availability boost: 1 of 4 online", s, 4, 0, 0, 1, 4, 5},
		{"no boost at half online", s, 4, 0, 0, 2, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, fleet.DesiredCount(tt.s, tt.scheduled, tt.waiting, tt.running, tt.online, tt.live))
		})
	}
}

// Defect 2, on a trace: one job in an hour with InstanceBuffer 1 costs two
// instances for that job's time, not a buffer instance all month.
func TestInstanceBufferCostsOnlyWhileJobsRun(t *testing.T) {
	jobs := []fleet.Job{{Start: 3600, Duration: 300, Queue: "default"}}
	s := stack("s", "default", 0, 10)
	plain := simulate(t, []fleet.Stack{s}, jobs).TotalMonthlyCostUSD
	s.InstanceBuffer = 1
	buffered := simulate(t, []fleet.Stack{s}, jobs).TotalMonthlyCostUSD
	assert.Greater(t, buffered, plain)
	assert.Less(t, buffered, 2.5*plain, "the buffer instance lives about as long as the job's")
}

// Defect 3: Elastic CI mode also lowers the desired capacity, so with
// scale-in protection off the ASG picks a victim, busy or not.
func TestElasticCIModeWithoutProtectionKills(t *testing.T) {
	s := stack("s", "q", 0, 2)
	s.ScaleInIdleSeconds, s.ScaleInCooldown, s.ElasticCIMode = 0, 0, true
	s.ScaleInProtection = false
	assert.Positive(t, simulate(t, []fleet.Stack{s}, scaleInJobs).Stacks[0].KilledJobs)
	s.ScaleInProtection = true
	assert.Zero(t, simulate(t, []fleet.Stack{s}, scaleInJobs).Stacks[0].KilledJobs, "protected: it drains instead")
}

// Defect 4: the replay starts with MinSize instances up, as in a running
// fleet: the always-on builder takes the first job at once.
func TestTheReplayStartsWarm(t *testing.T) {
	s := stack("s", "q", 1, 1)
	s.ScaleInIdleSeconds = 0
	res := simulate(t, []fleet.Stack{s}, []fleet.Job{{Start: 0, Duration: 60, Queue: "q"}})
	assert.Zero(t, res.Queues[0].P95WaitSeconds)
}

// Defect 5: the scaler asks every 10 s within each minute's run, so a job
// waits for a boot, not for the next minute as well.
func TestTheScalerPollsEveryTenSeconds(t *testing.T) {
	res := simulate(t, []fleet.Stack{stack("s", "q", 0, 1)}, []fleet.Job{{Start: 5, Duration: 60, Queue: "q"}})
	assert.InDelta(t, 185, res.Queues[0].P95WaitSeconds, 10, "scaled at t=10, ready 180 s later")
}

// Defect 6: the ASG takes its victim from the zone with the most
// instances, then the one closest to its next instance hour. Here the
// instance closest to the hour overall is idle, alone in its zone; the
// other zone's closest one is busy, and dies.
func TestTheASGBalancesZonesBeforeTheHour(t *testing.T) {
	s := stack("s", "q", 0, 3)
	s.ScaleInIdleSeconds, s.ScaleInCooldown = 0, 0
	s.DisableScaleIn, s.ScaleInProtection = false, false
	jobs := []fleet.Job{
		{Start: 0, Duration: 5000, Queue: "q"},    // zone a, launched at 0
		{Start: 1000, Duration: 2700, Queue: "q"}, // zone b, idle from about 3880: closest to its hour then
		{Start: 3000, Duration: 5000, Queue: "q"}, // zone a, busy
	}
	res := simulate(t, []fleet.Stack{s}, jobs)
	assert.Equal(t, 1, res.Stacks[0].KilledJobs, "the busy instance of the fuller zone")
}

// Defect 7: a build on a cold instance takes ColdPenaltySeconds longer, so
// the next build waits longer.
func TestAColdBuildTakesLonger(t *testing.T) {
	// The first build boots a cold instance (ready at 190 s); the second,
	// at 300 s, waits for it to end.
	jobs := []fleet.Job{{Start: 0, Duration: 100, Queue: "builders"}, {Start: 300, Duration: 100, Queue: "builders"}}
	s := stack("s", "builders", 0, 1)
	s.ScaleInIdleSeconds = 0
	for _, penalty := range []int{0, 300} {
		opts := options()
		opts.ColdPenaltySeconds = map[string]int{"builders": penalty}
		res, err := fleet.Simulate([]fleet.Stack{s}, jobs, opts)
		require.NoError(t, err)
		want := (190.0 + max(0, float64(penalty)-10)) / 2
		assert.InDelta(t, want, res.Queues[0].MeanWaitSeconds, 10, "penalty %d: the second build waits for the cold first", penalty)
	}
}

// Scheduled scaling (EnableScheduledScaling): MinSize rises at 14:00 on a
// working day, so a job at 14:05 finds an instance up.
func TestScheduledScaling(t *testing.T) {
	monday1405 := 14*3600 + 300
	jobs := []fleet.Job{{Start: monday1405, Duration: 60, Queue: "q"}}
	s := stack("s", "q", 0, 2)
	assert.Greater(t, simulate(t, []fleet.Stack{s}, jobs).Queues[0].P95WaitSeconds, 150.0, "no schedule: a boot")
	up, err := agentstack.ParseCron("0 14 * * MON-FRI", "UTC")
	require.NoError(t, err)
	down, err := agentstack.ParseCron("0 23 * * MON-FRI", "UTC")
	require.NoError(t, err)
	s.Schedule = &fleet.Schedule{Up: up, Down: down, UpMinSize: 1, DownMinSize: 0}
	assert.Zero(t, simulate(t, []fleet.Stack{s}, jobs).Queues[0].P95WaitSeconds, "scaled up at 14:00")
}

// ScaleOutForWaitingJobs: a test job made when its build starts, runnable
// when the build ends, finds its instance booted.
func TestScaleOutForWaitingJobs(t *testing.T) {
	jobs := []fleet.Job{{Created: 1, Start: 480, Duration: 60, Queue: "q"}}
	s := stack("s", "q", 0, 2)
	assert.Greater(t, simulate(t, []fleet.Stack{s}, jobs).Queues[0].P95WaitSeconds, 150.0)
	s.ScaleOutForWaitingJobs = true
	assert.Zero(t, simulate(t, []fleet.Stack{s}, jobs).Queues[0].P95WaitSeconds)
}

// ScaleOutFactor: half of each step, rounded up; the rest after the
// cooldown.
func TestScaleOutFactor(t *testing.T) {
	var jobs []fleet.Job
	for range 4 {
		jobs = append(jobs, fleet.Job{Start: 0, Duration: 600, Queue: "q"})
	}
	s := stack("s", "q", 0, 4)
	whole := simulate(t, []fleet.Stack{s}, jobs).Queues[0].P95WaitSeconds
	s.ScaleOutFactor = 0.5
	half := simulate(t, []fleet.Stack{s}, jobs).Queues[0].P95WaitSeconds
	assert.Greater(t, half, whole+250, "two jobs wait out the cooldown")
}
