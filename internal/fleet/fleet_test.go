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
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
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

// Issue 29's bar: over every shipped trace and the whole sweep (boots of
// 3 to 5 minutes, spot at 40 to 60 % of on demand, five months of spot
// interruptions), prod's settings keep the worst working-hours p95 wait of
// the default and builders queues at 60 s or less, kill and strand no job,
// and no other candidate that does so costs less in its worst case. The
// figures are docs/fleet/compare.json's, which cmd/fleet's
// TestTheREADMEsComparisonIsCurrent checks against a fresh sweep of prod.
// They also say what the wait costs: more than the settings before.
func TestProductionMeetsTheWaitInTheWorstCase(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "docs", "fleet", "compare.json"))
	require.NoError(t, err)
	var doc struct{ Rows []fleet.Outcome }
	var names struct {
		Rows []struct{ Name string }
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NoError(t, json.Unmarshal(raw, &names))
	byName := map[string]fleet.Outcome{}
	for i, r := range names.Rows {
		byName[r.Name] = doc.Rows[i]
	}
	prod, ok := byName["chosen (prod)"]
	require.True(t, ok, "docs/fleet/compare.json has the row chosen (prod)")
	assert.Equal(t, 135, prod.Runs, "3 traces x 3 boots x 5 seeds x 3 spot ratios")
	assert.LessOrEqual(t, prod.WorstWorkingP95, 60.0)
	assert.Zero(t, prod.MostKilledJobs)
	assert.Zero(t, prod.MostUnservedJobs)
	for name, o := range byName {
		if o.WorstWorkingP95 <= 60 {
			assert.GreaterOrEqual(t, o.WorstMonthlyCostUSD, prod.WorstMonthlyCostUSD, "%s meets the wait for less", name)
		}
	}
	assert.Greater(t, prod.WorstMonthlyCostUSD, byName["before"].WorstMonthlyCostUSD,
		"the README says 60 s costs more than before; if it no longer does, say so")
}

func TestSampleTraceFileIsTheGenerator(t *testing.T) {
	raw, err := os.ReadFile("sample-trace.csv")
	require.NoError(t, err)
	assert.Equal(t, fleet.FormatTrace(fleet.SampleTrace()), string(raw), "regenerate sample-trace.csv from SampleTrace")
	assert.Equal(t, fleet.FormatTrace(fleet.BurstyTrace()), fleet.BurstyCSV, "regenerate bursty-trace.csv from BurstyTrace")
	assert.Equal(t, fleet.FormatTrace(fleet.BusyTrace()), fleet.BusyCSV, "regenerate busy-trace.csv from BusyTrace")
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

// The scaler's arithmetic, row by row as buildkite-agent-scaler 1.12.0
// writes it (scaler/scaling_calculator.go DesiredCount; scaler/scaler.go
// Run, the proportional buffer and the MinSize/MaxSize caps, then the
// decision; lambda/main.go, AVAILABILITY_THRESHOLD 0.5). One agent per
// instance, as every stack here runs.
func TestTheScalersCount(t *testing.T) {
	s := stack("s", "q", 0, 10)
	buffered := s
	buffered.InstanceBuffer = 2
	forWaiting := s
	forWaiting.ScaleOutForWaitingJobs = true
	forWaitingBuffered := forWaiting
	forWaitingBuffered.InstanceBuffer = 3
	asg := func(desired, inService int) fleet.ASG {
		return fleet.ASG{Desired: desired, InService: inService, MinSize: 0, MaxSize: 10}
	}
	tests := []struct {
		name   string
		s      fleet.Stack
		m      fleet.Metrics
		g      fleet.ASG
		want   int
		change int
	}{
		{"nothing to do", s, fleet.Metrics{}, asg(0, 0), 0, 0},
		{"scheduled plus running", s, fleet.Metrics{Scheduled: 2, Running: 3, TotalAgents: 3}, asg(3, 3), 5, 2},
		// scaling_calculator.go: waiting jobs replace running ones, only
		// when more wait than run, and only with includeWaiting.
		{"waiting jobs are not counted by default", s, fleet.Metrics{Waiting: 4}, asg(0, 0), 0, 0},
		{"waiting replace running when more wait", forWaiting, fleet.Metrics{Scheduled: 1, Running: 2, Waiting: 4, TotalAgents: 2}, asg(2, 2), 5, 3},
		{"waiting are not added to running", forWaiting, fleet.Metrics{Running: 4, Waiting: 3, TotalAgents: 4}, asg(4, 4), 4, 0},
		// scaler.go Run: the buffer is ceil(jobs / agents per instance), at
		// most InstanceBuffer, and only while some job exists.
		{"a buffer with no job adds nothing", buffered, fleet.Metrics{}, asg(0, 0), 0, 0},
		{"one job, a buffer of one", buffered, fleet.Metrics{Running: 1, TotalAgents: 1}, asg(1, 1), 2, 1},
		{"many jobs, the whole buffer", buffered, fleet.Metrics{Scheduled: 5, TotalAgents: 0}, asg(0, 0), 7, 7},
		{"the buffer counts waiting jobs with ScaleOutForWaitingJobs", forWaitingBuffered, fleet.Metrics{Running: 3, Waiting: 2, TotalAgents: 3}, asg(3, 3), 6, 3},
		{"a waiting job alone triggers no buffer without ScaleOutForWaitingJobs", buffered, fleet.Metrics{Waiting: 2}, asg(0, 0), 0, 0},
		// The availability boost: agents over InService below 50 %, with
		// jobs, and only once InService == desired; then desired + 1.
		{"boost: 1 agent on 4 instances", s, fleet.Metrics{Scheduled: 3, Running: 1, TotalAgents: 1}, asg(4, 4), 5, 1},
		{"boost from 0 is 1", s, fleet.Metrics{Scheduled: 0, Running: 1, TotalAgents: 0}, asg(0, 0), 1, 1},
		{"no boost at half", s, fleet.Metrics{Scheduled: 2, Running: 2, TotalAgents: 2}, asg(4, 4), 4, 0},
		{"no boost while the group converges", s, fleet.Metrics{Scheduled: 4, TotalAgents: 0}, asg(4, 2), 4, 0},
		{"no boost without a job", s, fleet.Metrics{TotalAgents: 0}, asg(2, 2), 0, -2},
		{"agents of another stack on the queue hold the boost off", s, fleet.Metrics{Scheduled: 2, TotalAgents: 1}, asg(2, 1), 2, 0},
		// The decision: out only above both InService and desired.
		{"no scale-out while InService already exceeds the count", s, fleet.Metrics{Scheduled: 3, TotalAgents: 4}, fleet.ASG{Desired: 2, InService: 4, MaxSize: 10}, 3, 0},
		{"InService 0 reads as the desired count, and no boost until it converges", s, fleet.Metrics{Scheduled: 3}, fleet.ASG{Desired: 3, InService: 0, MaxSize: 10}, 3, 0},
		{"in: below the desired count", s, fleet.Metrics{Running: 1, TotalAgents: 3}, asg(3, 3), 1, -2},
		{"capped at MaxSize", s, fleet.Metrics{Scheduled: 40}, fleet.ASG{MaxSize: 10}, 10, 10},
		{"raised to MinSize", s, fleet.Metrics{}, fleet.ASG{Desired: 2, InService: 2, MinSize: 2, MaxSize: 10}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fleet.DesiredCount(tt.s, tt.m, tt.g)
			assert.Equal(t, tt.want, got, "desired count")
			assert.Equal(t, tt.change, fleet.Decide(got, tt.g), "change to the desired capacity")
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

// Issue 29, item 6: a job that fails and is retried waits again, and its
// failed run is paid for.
func TestARetriedJobWaitsAgainAndPays(t *testing.T) {
	s := stack("s", "q", 0, 1)
	once := simulate(t, []fleet.Stack{s}, []fleet.Job{{Start: 0, Duration: 600, Queue: "q"}})
	retried := simulate(t, []fleet.Stack{s}, []fleet.Job{{Start: 0, Duration: 600, Queue: "q", Retries: 1}})
	q := retried.Queues[0]
	assert.Equal(t, 1, q.FailedRuns)
	assert.Equal(t, 2, q.WorkingHours.Jobs+q.OffHours.Jobs, "two runs, two waits")
	assert.Greater(t, retried.TotalMonthlyCostUSD, once.TotalMonthlyCostUSD, "the failed run's time is paid for")
}

// Issue 29, item 4: a job behind a block step counts as waiting; with
// ScaleOutForWaitingJobs the scaler boots an agent for it, which idles out
// and is booted again, over and over, until someone unblocks it: the job
// finds an agent, and the churn is paid for.
func TestABlockStepBootsAnAgentThatIdlesOut(t *testing.T) {
	jobs := []fleet.Job{{Created: 3600, Start: 3600 + 2*3600, Duration: 300, Queue: "q"}}
	s := stack("s", "q", 0, 5)
	plain := simulate(t, []fleet.Stack{s}, jobs)
	s.ScaleOutForWaitingJobs = true
	eager := simulate(t, []fleet.Stack{s}, jobs)
	assert.Greater(t, eager.TotalMonthlyCostUSD, plain.TotalMonthlyCostUSD, "instances booted for a blocked job")
	assert.Greater(t, eager.TotalMonthlyCostUSD, 3*plain.TotalMonthlyCostUSD, "two hours of boot, idle, terminate")
	assert.Less(t, eager.Queues[0].P95WaitSeconds, plain.Queues[0].P95WaitSeconds, "an agent is up when it is unblocked")
}

// Issue 29, item 2: the seed is one possible month of spot interruptions;
// another seed draws another.
func TestEachSeedIsAnotherMonth(t *testing.T) {
	s := stack("s", "q", 2, 2)
	s.OnDemandPercentage = 0
	var jobs []fleet.Job
	for i := range 2000 {
		jobs = append(jobs, fleet.Job{Start: i * 600, Duration: 590, Queue: "q"})
	}
	interrupted := map[int]bool{}
	for seed := 1; seed <= 4; seed++ {
		opts := options()
		opts.Seed, opts.SpotInterruptionsPerHour = seed, 0.05
		res, err := fleet.Simulate([]fleet.Stack{s}, jobs, opts)
		require.NoError(t, err)
		interrupted[res.Queues[0].InterruptedJobs] = true
	}
	assert.Greater(t, len(interrupted), 1, "four seeds, one outcome: the seed is not used")
}

// Issue 29, item 2: a sweep reports the worst run and the median, and a
// longer boot is what makes the worst.
func TestTheSweepReportsTheWorstRun(t *testing.T) {
	jobs := []fleet.Job{{Start: 15 * 3600, Duration: 300, Queue: "q"}} // a Monday, in working hours
	sweep := fleet.Sweep{BootSeconds: []int{180, 300}, SpotRatios: []float64{0.4, 0.6}, Seeds: 2}
	out, err := fleet.RunSweep([]fleet.Stack{stack("s", "q", 0, 1)}, []fleet.Trace{{Name: "t", Jobs: jobs}}, options(), sweep, []string{"q"})
	require.NoError(t, err)
	assert.Equal(t, 8, out.Runs)
	assert.Contains(t, out.WorstRun, "boot 300 s")
	assert.InDelta(t, 310, out.WorstWorkingP95, 10)
	assert.Less(t, out.MedianWorkingP95, out.WorstWorkingP95+1)
	assert.GreaterOrEqual(t, out.WorstMonthlyCostUSD, out.MedianMonthlyCostUSD)
	_, err = fleet.RunSweep(nil, nil, options(), fleet.Sweep{}, nil)
	assert.Error(t, err, "an empty sweep")
}
