// Package fleet owns the fleet simulator: it replays a job trace against
// the agent stacks a plan declares, with the scaling rules of the pinned
// Elastic CI Stack (v6.71.1) and its buildkite-agent-scaler (1.12.0), and
// reports what the settings cost and do to jobs: waits, jobs killed by a
// scale-in, and how many jobs ran on a warm instance.
//
// Each rule the simulation applies names its source beside it. Where the
// sources leave a choice to chance (which idle agent takes a job, when a
// spot instance is reclaimed), the simulator fixes one deterministically
// (a seed picks the spot draws) and says so; what is uncertain (boot time,
// spot price and interruptions, the cold-build penalty) is an Option that
// RunSweep varies (sweep.go). The results are a model, not a measurement;
// the shipped traces are assumptions (sample.go), and package history
// writes an organisation's own.
package fleet

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/internal/cost"
)

// Stack is one agent stack as the simulator sees it: the template
// parameters that decide how it scales.
type Stack struct {
	// Stack is the sizing the cost estimate prices: name, instance types,
	// MinSize, MaxSize and OnDemandPercentage. The simulator launches (and
	// prices) the first instance type.
	cost.Stack
	Queue string
	// ScaleInIdleSeconds: an agent idle this long stops and its instance
	// terminates itself (0: never). disconnect-after-idle-timeout in
	// bk-install-elastic-stack.sh.
	ScaleInIdleSeconds int
	DisableScaleIn     bool
	ScaleInProtection  bool
	ElasticCIMode      bool
	ScaleInCooldown    int // ScaleInCooldownPeriod, seconds
	ScaleOutCooldown   int // ScaleOutCooldownPeriod, seconds
	InstanceBuffer     int
	// ScaleOutFactor multiplies each scale-out step (ScaleOutFactor,
	// scaler.go scaleOut: the change is rounded up); 0 means 1.
	ScaleOutFactor float64
	// ScaleOutForWaitingJobs counts jobs that wait on another job
	// (Job.Created before Job.Start) as needing an agent
	// (ScaleOutForWaitingJobs, scaling_calculator.go includeWaiting).
	ScaleOutForWaitingJobs bool
	// Schedule, when set, raises and lowers MinSize on a cron schedule
	// (EnableScheduledScaling: two AWS::AutoScaling::ScheduledAction).
	Schedule *Schedule
	// SpotAllocationStrategy picks spot pools (SpotAllocationStrategy,
	// default capacity-optimized); it changes how often spot instances are
	// reclaimed (spotInterruptionFactor).
	SpotAllocationStrategy string
}

// Schedule is the template's scheduled scaling: at Up, MinSize becomes
// UpMinSize; at Down, DownMinSize (ScaleUpSchedule, ScaleDownSchedule,
// ScaleUpMinSize, ScaleDownMinSize, ScheduleTimezone).
type Schedule struct {
	Up, Down               agentstack.Cron
	UpMinSize, DownMinSize int
}

// traceEpoch is the instant t = 0 of a trace: a Monday, 00:00 UTC.
var traceEpoch = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// at is the instant of t seconds into a trace.
func at(t int) time.Time { return traceEpoch.Add(time.Duration(t) * time.Second) }

// HasScaler: the template creates the scaler only when the size can vary
// (aws-stack.yml v6.71.1, condition HasVariableSize: MaxSize != MinSize).
func (s Stack) HasScaler() bool { return s.MaxSize != s.MinSize }

// Job is one job of a trace: when it was scheduled, on which queue, and how
// long it runs once an agent takes it. Created, when earlier than Start, is
// when the job was made and began waiting on another (a test job behind
// its build step): Buildkite counts it as waiting, not scheduled, until
// Start.
type Job struct {
	Start, Duration int
	Queue           string
	Created         int
	// Retries is how many times the job fails and Buildkite retries it
	// automatically (a flaky test under a retry rule): each retry is a new
	// job on the queue, which waits again, and the failed run's work is
	// lost (it was paid for).
	Retries int
}

// Options are the model's assumptions: each an input, swept by
// cmd/fleet -sweep, never a constant the results hide.
type Options struct {
	// BootSeconds from launch to an agent taking jobs: instance start,
	// bootstrap, agent registration. The scaler's own comment says this
	// "typically takes 3-5 minutes" (scaler.go Run, 1.12.0); the default
	// is the low end, and -sweep tries 180, 240 and 300 s.
	BootSeconds int
	// InServiceSeconds from launch to the ASG counting the instance
	// InService: the template has no lifecycle hook (aws-stack.yml
	// v6.71.1), so this is EC2's pending state. An assumption (45 s);
	// never more than BootSeconds.
	InServiceSeconds int
	// Seed picks the draws of the spot interruption coin: one seed is one
	// possible month.
	Seed int
	// SpotInterruptionsPerHour is the chance that a spot instance is
	// reclaimed in an hour. An assumption (0.5 %).
	SpotInterruptionsPerHour float64
	// HourlyPrice prices an instance type on demand; SpotRatio is the share
	// of it a spot hour costs.
	HourlyPrice func(instanceType string) (float64, error)
	SpotRatio   float64
	// ColdPenaltySeconds is added to a job of a queue named here that runs
	// on an instance which has not run one of that queue before: a build
	// without its warm cache takes longer. The seed's "7m+" is a dated
	// total for a build from scratch, not this extra, so it is a parameter.
	ColdPenaltySeconds map[string]int
	// RetryInterrupted: a job that a spot interruption stops is retried,
	// as pipeline.yml's retry rules for signal_reason agent_stop and
	// exit_status -1 say. Without them Buildkite retries nothing.
	RetryInterrupted bool
	// WorkingHours says whether a time of the trace (seconds from Monday
	// 00:00 UTC) is in working hours, for the waits reported apart.
	WorkingHours func(t int) bool
}

// DefaultColdPenaltySeconds is the builders' extra time on a cold
// instance that the figures of docs/cost-and-capacity.md assume: 5 minutes.
const DefaultColdPenaltySeconds = 300

// DefaultOptions are the assumptions the figures of docs/cost-and-capacity.md use.
func DefaultOptions(price func(string) (float64, error), spotRatio float64) Options {
	return Options{BootSeconds: 180, InServiceSeconds: 45, SpotInterruptionsPerHour: 0.005, HourlyPrice: price, SpotRatio: spotRatio,
		ColdPenaltySeconds: map[string]int{"builders": DefaultColdPenaltySeconds}, RetryInterrupted: true,
		WorkingHours: SampleWorkingHours}
}

// SampleWorkingHours are the sample trace's: 14:00 to 23:00 UTC, Monday to
// Friday (a team in New York), day 0 a Monday.
func SampleWorkingHours(t int) bool {
	day, sec := (t/86400)%7, t%86400
	return day < 5 && sec >= workdayStart && sec < workdayStart+workdayLength
}

// scalerPeriod: the scaler Lambda runs every ScalerEventSchedulePeriod
// (template default "1 minute") for up to 50 s, and within that run asks
// Buildkite every ScalerMinPollInterval (10 s) (lambda/main.go, 1.12.0).
const (
	scalerPeriod   = 60
	scalerRunTime  = 50
	scalerInterval = 10
)

// Spot: the instance gets a two-minute notice; v6.71.1's
// stop-agent-gracefully sends the agent SIGTERM at once (no new job, the
// running one goes on), then SIGQUIT 20 s before the instance ends, which
// cancels the job with signal_reason agent_stop.
const (
	spotNotice   = 120
	spotSigquit  = spotNotice - 20
	availableAZs = 2 // the network component's two public subnets
)

// spotInterruptionFactor scales SpotInterruptionsPerHour by allocation
// strategy. An assumption from AWS's guidance: the capacity-optimized
// strategies pick the pools least likely to be reclaimed, lowest-price
// does not (assumed twice as often).
func spotInterruptionFactor(strategy string) float64 {
	if strategy == "lowest-price" {
		return 2
	}
	return 1
}

// tick is the simulation's step: every rule is evaluated each 10 s.
const tick = 10

// StackResult is what one stack did over the trace.
type StackResult struct {
	Name           string  `json:"name"`
	Queue          string  `json:"queue"`
	KilledJobs     int     `json:"killedJobs"`
	MonthlyCostUSD float64 `json:"monthlyCostUSD"`
	// InterruptedJobs were stopped by a spot interruption (killedJobs
	// counts only what a scale-in killed).
	InterruptedJobs int `json:"interruptedJobs"`
	// The month's on-demand hours and spot hours, each priced on demand:
	// the cost at any spot price ratio (Result.CostAt) without a replay.
	OnDemandUSD       float64 `json:"onDemandUSD"`
	SpotAtOnDemandUSD float64 `json:"spotAtOnDemandUSD"`
}

// QueueResult is what the jobs of one queue saw. A job that never started
// counts with the time it waited until the end of the replay, and in
// UnservedJobs.
type QueueResult struct {
	Queue           string  `json:"queue"`
	WarmBuildShare  float64 `json:"warmBuildShare"`
	MeanWaitSeconds float64 `json:"meanWaitSeconds"`
	P95WaitSeconds  float64 `json:"p95WaitSeconds"`
	KilledJobs      int     `json:"killedJobs"`
	// Waits of jobs scheduled in and out of working hours.
	WorkingHours    Waits `json:"workingHours"`
	OffHours        Waits `json:"offHours"`
	UnservedJobs    int   `json:"unservedJobs"`
	InterruptedJobs int   `json:"interruptedJobs"`
	RetriedJobs     int   `json:"retriedJobs"`
	// FailedRuns are runs that failed and that a retry rule ran again
	// (Job.Retries): each paid for, each rerun waited again.
	FailedRuns int `json:"failedRuns"`
}

// Waits are the mean and 95th percentile of some jobs' waits.
type Waits struct {
	Jobs            int     `json:"jobs"`
	MeanWaitSeconds float64 `json:"meanWaitSeconds"`
	P95WaitSeconds  float64 `json:"p95WaitSeconds"`
}

// Result is the simulation's report.
type Result struct {
	Stacks              []StackResult `json:"stacks"`
	Queues              []QueueResult `json:"queues"`
	TotalMonthlyCostUSD float64       `json:"totalMonthlyCostUSD"`
}

type instance struct {
	id                int
	stack             int
	az                int
	launched, readyAt int
	inServiceAt       int // when the ASG counts it InService
	spot              bool
	job               *queued // running job, or nil
	jobEnd, idleSince int
	done              map[string]bool // queues it finished a job of: its cache is warm for them
	draining, gone    bool
	stopping          bool // a spot notice came: no new job
	reclaimAt         int  // when a noticed spot instance ends
}

type queued struct {
	job         Job
	killed      int  // times it was killed and put back
	waiting     bool // runnable and on its queue, without an agent
	readyAt     int  // when it last became runnable: its wait counts from here
	retriesLeft int  // automatic retries of a failure still to come
}

type group struct {
	stack           Stack
	minSize         int // MinSize now: the schedule moves it
	desired         int
	lastIn, lastOut int
	killed          int
	interrupted     int
	instanceSeconds float64
	spotSeconds     float64
	launches        int
}

// monthSeconds is the month the costs are given for (cost.HoursPerMonth).
const monthSeconds = cost.HoursPerMonth * 3600

// Simulate replays jobs against stacks. A job waits in its queue until an
// idle agent of a stack serving that queue takes it.
func Simulate(stacks []Stack, jobs []Job, opts Options) (Result, error) {
	if len(stacks) == 0 {
		return Result{}, fmt.Errorf("fleet: no agent stacks")
	}
	jobs = slices.Clone(jobs)
	for i := range jobs {
		if jobs[i].Created == 0 || jobs[i].Created > jobs[i].Start {
			jobs[i].Created = jobs[i].Start
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Created < jobs[j].Created })
	groups := make([]*group, len(stacks))
	served := map[string]bool{}
	for i, s := range stacks {
		if s.MaxSize < s.MinSize || s.MinSize < 0 {
			return Result{}, fmt.Errorf("fleet: stack %s: MinSize %d, MaxSize %d", s.Name, s.MinSize, s.MaxSize)
		}
		groups[i] = &group{stack: s, minSize: s.MinSize, desired: s.MinSize, lastIn: -1 << 30, lastOut: -1 << 30}
		served[s.Queue] = true
	}
	for _, j := range jobs {
		if !served[j.Queue] {
			return Result{}, fmt.Errorf("fleet: no stack serves the queue %q of the trace", j.Queue)
		}
	}
	end := 0
	for _, j := range jobs {
		end = max(end, j.Start+j.Duration)
	}
	end += 3 * 3600 // let the fleet settle after the last job

	var insts []*instance
	nextID := 0
	launch := func(g int, t int) {
		s := groups[g].stack
		groups[g].launches++
		// The first OnDemandPercentage of every hundred launches run on
		// demand (OnDemandPercentageAboveBaseCapacity, base 0).
		spot := s.OnDemandPercentage < 100 && (groups[g].launches*(100-s.OnDemandPercentage))%100 < 100-s.OnDemandPercentage
		// The ASG launches into the zone with the fewest of its instances
		// (AZ rebalancing), the first zone on a tie.
		perAZ := make([]int, availableAZs)
		for _, in := range insts {
			if !in.gone && in.stack == g {
				perAZ[in.az]++
			}
		}
		az := 0
		for z := range perAZ {
			if perAZ[z] < perAZ[az] {
				az = z
			}
		}
		insts = append(insts, &instance{id: nextID, stack: g, az: az, launched: t, readyAt: t + opts.BootSeconds,
			inServiceAt: t + min(opts.InServiceSeconds, opts.BootSeconds), spot: spot, done: map[string]bool{}, idleSince: t + opts.BootSeconds})
		nextID++
	}
	// The replay starts in a steady state: MinSize instances are up,
	// ready and warm at t = 0, as they would be in a running fleet.
	for gi, g := range groups {
		for range g.desired {
			launch(gi, -opts.BootSeconds)
			insts[len(insts)-1].done[g.stack.Queue] = true
		}
	}
	queues := map[string][]*queued{}
	var all []*queued
	waits := map[string][]waitAt{}
	warm := map[string]int{}
	ran := map[string]int{}
	killedQ := map[string]int{}
	interruptedQ := map[string]int{}
	retriedQ := map[string]int{}
	failedQ := map[string]int{}
	// requeue puts a job back at the front of its queue (a retry of a job
	// an agent lost); it waits again from now.
	requeue := func(j *queued, t int) {
		j.waiting, j.readyAt = true, t
		queues[j.job.Queue] = append([]*queued{j}, queues[j.job.Queue]...)
	}
	kill := func(in *instance, t int) {
		if in.job == nil {
			return
		}
		groups[in.stack].killed++
		killedQ[in.job.job.Queue]++
		in.job.killed++
		// A job killed by a scale-in is retried: back to the front of its
		// queue.
		requeue(in.job, t)
		in.job = nil
	}
	interrupt := func(in *instance, t int) {
		if in.job == nil {
			return
		}
		groups[in.stack].interrupted++
		interruptedQ[in.job.job.Queue]++
		if opts.RetryInterrupted {
			retriedQ[in.job.job.Queue]++
			in.job.killed++
			requeue(in.job, t)
		}
		in.job = nil
	}
	alive := func(g int) []*instance {
		var out []*instance
		for _, in := range insts {
			if !in.gone && in.stack == g {
				out = append(out, in)
			}
		}
		return out
	}
	running := func(queue string) int {
		n := 0
		for _, in := range insts {
			if !in.gone && in.job != nil && in.job.job.Queue == queue {
				n++
			}
		}
		return n
	}
	// agents are the queue's registered agents, of every stack serving it:
	// Buildkite's metrics count them per queue, not per group.
	agents := func(queue string, t int) int {
		n := 0
		for _, in := range insts {
			if !in.gone && !in.stopping && t >= in.readyAt && groups[in.stack].stack.Queue == queue {
				n++
			}
		}
		return n
	}
	inService := func(g, t int) int {
		n := 0
		for _, in := range insts {
			if !in.gone && in.stack == g && t >= in.inServiceAt {
				n++
			}
		}
		return n
	}
	waitingOn := map[string]int{} // jobs made but not yet runnable, per queue

	next := 0
	pending := []*queued{} // made, not yet runnable
	for t := 0; t <= end; t += tick {
		// Forget terminated instances: every scan below is per live one.
		insts = slices.DeleteFunc(insts, func(in *instance) bool { return in.gone })
		for next < len(jobs) && jobs[next].Created <= t {
			j := &queued{job: jobs[next], retriesLeft: jobs[next].Retries}
			all = append(all, j)
			pending = append(pending, j)
			next++
		}
		clear(waitingOn)
		pending = slices.DeleteFunc(pending, func(j *queued) bool {
			if j.job.Start <= t {
				j.waiting, j.readyAt = true, j.job.Start
				queues[j.job.Queue] = append(queues[j.job.Queue], j)
				return true
			}
			waitingOn[j.job.Queue]++
			return false
		})
		// Scheduled scaling: the scheduled actions set MinSize at their
		// minute; the ASG raises desired capacity to it.
		if t%60 == 0 {
			for _, g := range groups {
				if sc := g.stack.Schedule; sc != nil {
					switch {
					case sc.Up.Matches(at(t)):
						g.minSize = min(sc.UpMinSize, g.stack.MaxSize)
					case sc.Down.Matches(at(t)):
						g.minSize = min(sc.DownMinSize, g.stack.MaxSize)
					}
					g.desired = max(g.desired, g.minSize)
				}
			}
		}
		for _, in := range insts {
			g := groups[in.stack]
			g.instanceSeconds += tick
			if in.spot {
				g.spotSeconds += tick
			}
			if in.job != nil && t >= in.jobEnd {
				j := in.job
				in.done[j.job.Queue] = true
				in.job = nil
				in.idleSince = t
				// A failure a retry rule catches: Buildkite makes a new job,
				// which joins the back of the queue and waits again.
				if j.retriesLeft > 0 {
					j.retriesLeft--
					failedQ[j.job.Queue]++
					j.waiting, j.readyAt = true, t
					queues[j.job.Queue] = append(queues[j.job.Queue], j)
				}
			}
			s := g.stack
			// Spot: a notice at random, then the end two minutes later.
			if in.spot && !in.stopping && chance(opts.Seed, in.id, t, opts.SpotInterruptionsPerHour*spotInterruptionFactor(s.SpotAllocationStrategy)*float64(tick)/3600) {
				in.stopping, in.reclaimAt = true, t+spotNotice
			}
			if in.stopping {
				if in.job != nil && t >= in.reclaimAt-spotNotice+spotSigquit {
					interrupt(in, t) // SIGQUIT: the job ends with agent_stop
				}
				if t >= in.reclaimAt {
					interrupt(in, t)
					in.gone = true // the ASG launches a replacement below
				}
				continue
			}
			// A draining instance (Elastic CI mode's graceful scale-in)
			// stops after its job; if the ASG is still above desired
			// capacity its leaving settles that, otherwise it decrements.
			if in.draining && in.job == nil {
				in.gone = true
				if len(alive(in.stack)) <= g.desired {
					g.desired = max(g.minSize, g.desired-1)
				}
				continue
			}
			// Idle self-termination: the agent exits after the idle
			// timeout and terminate-instance asks the ASG to decrement;
			// at MinSize the decrement is refused and the instance is
			// terminated without it, so the ASG replaces it
			// (scripts/terminate-instance, v6.71.1).
			if s.ScaleInIdleSeconds > 0 && in.job == nil && t >= in.readyAt && t-in.idleSince >= s.ScaleInIdleSeconds {
				in.gone = true
				if g.desired > g.minSize {
					g.desired--
				}
			}
		}
		// The scaler: a Lambda run each minute that polls every 10 s for
		// 50 s, per stack with a scaler.
		if t%scalerPeriod < scalerRunTime && t%scalerInterval == 0 {
			for gi, g := range groups {
				s := g.stack
				if !s.HasScaler() {
					continue
				}
				asg := ASG{Desired: g.desired, InService: inService(gi, t), MinSize: g.minSize, MaxSize: s.MaxSize}
				want := DesiredCount(s, Metrics{Scheduled: len(queues[s.Queue]), Running: running(s.Queue),
					Waiting: waitingOn[s.Queue], TotalAgents: agents(s.Queue, t)}, asg)
				change := Decide(want, asg)
				switch {
				case change > 0 && t-g.lastOut >= s.ScaleOutCooldown:
					// scaler.go scaleOut: the change times ScaleOutFactor,
					// rounded up, within MaxSize.
					step := change
					if s.ScaleOutFactor > 0 {
						step = int(math.Ceil(float64(step) * s.ScaleOutFactor))
					}
					g.desired, g.lastOut = min(s.MaxSize, g.desired+step), t
				case change < 0 && (!s.DisableScaleIn || s.ElasticCIMode) && t-g.lastIn >= s.ScaleInCooldown:
					// scaler.go scaleIn: DisableScaleIn stops it unless in
					// Elastic CI mode; the cooldown counts from the last
					// scale-in. It lowers the desired capacity, and the ASG
					// picks the victims.
					drop := g.desired - want
					g.desired, g.lastIn = want, t
					if !s.ElasticCIMode {
						break
					}
					// Elastic CI mode also stops the oldest instances
					// gracefully (sorted by launch time, oldest first):
					// each leaves after its job.
					live := alive(gi)
					sort.Slice(live, func(i, j int) bool { return live[i].launched < live[j].launched })
					for i, n := 0, 0; i < len(live) && n < drop; i++ {
						if !live[i].draining {
							live[i].draining = true
							n++
						}
					}
				}
			}
		}
		// The ASG converges on desired capacity.
		for gi, g := range groups {
			live := alive(gi)
			for n := len(live); n < g.desired; n++ {
				launch(gi, t)
			}
			excess := len(live) - g.desired
			for ; excess > 0; excess-- {
				victim := asgVictim(live, g.stack.ScaleInProtection, t)
				if victim == nil {
					break // protected instances: the ASG terminates none
				}
				kill(victim, t)
				victim.gone = true
				live = alive(gi)
			}
		}
		// Idle agents take waiting jobs; the earliest-launched idle
		// instance first (agents poll in no set order; the simulator
		// fixes one).
		for queue, waiting := range queues {
			for len(waiting) > 0 {
				var taker *instance
				for _, in := range insts {
					if !in.gone && !in.draining && !in.stopping && in.job == nil && t >= in.readyAt && groups[in.stack].stack.Queue == queue {
						taker = in
						break
					}
				}
				if taker == nil {
					break
				}
				j := waiting[0]
				waiting = waiting[1:]
				duration := j.job.Duration
				if !taker.done[queue] {
					duration += opts.ColdPenaltySeconds[queue]
				}
				taker.job, taker.jobEnd = j, t+duration
				// Every run waits: a retry's second wait counts like the
				// first.
				j.waiting = false
				waits[queue] = append(waits[queue], waitAt{float64(t - j.readyAt), j.readyAt})
				ran[queue]++
				if taker.done[queue] {
					warm[queue]++
				}
			}
			queues[queue] = waiting
		}
	}

	scale := float64(monthSeconds) / float64(end)
	var res Result
	for _, g := range groups {
		price, err := opts.HourlyPrice(g.stack.InstanceTypes[0])
		if err != nil {
			return Result{}, err
		}
		onDemand := g.instanceSeconds - g.spotSeconds
		monthly := (onDemand + g.spotSeconds*opts.SpotRatio) / 3600 * price * scale
		res.Stacks = append(res.Stacks, StackResult{Name: g.stack.Name, Queue: g.stack.Queue, KilledJobs: g.killed,
			MonthlyCostUSD: round2(monthly), InterruptedJobs: g.interrupted,
			OnDemandUSD: onDemand / 3600 * price * scale, SpotAtOnDemandUSD: g.spotSeconds / 3600 * price * scale})
		res.TotalMonthlyCostUSD += monthly
	}
	res.TotalMonthlyCostUSD = round2(res.TotalMonthlyCostUSD)
	// A job still waiting at the end waited until then.
	unserved := map[string]int{}
	for _, j := range all {
		if j.waiting {
			unserved[j.job.Queue]++
			waits[j.job.Queue] = append(waits[j.job.Queue], waitAt{float64(end - j.readyAt), j.readyAt})
		}
	}
	var names []string
	for q := range served {
		names = append(names, q)
	}
	sort.Strings(names)
	for _, q := range names {
		r := QueueResult{Queue: q, KilledJobs: killedQ[q], UnservedJobs: unserved[q], InterruptedJobs: interruptedQ[q], RetriedJobs: retriedQ[q],
			FailedRuns: failedQ[q]}
		if ran[q] > 0 {
			r.WarmBuildShare = round2(float64(warm[q]) / float64(ran[q]))
		}
		var in, out, every []float64
		for _, w := range waits[q] {
			every = append(every, w.wait)
			if opts.WorkingHours != nil && opts.WorkingHours(w.at) {
				in = append(in, w.wait)
			} else {
				out = append(out, w.wait)
			}
		}
		r.MeanWaitSeconds, r.P95WaitSeconds = meanP95(every)
		r.WorkingHours, r.OffHours = waitsOf(in), waitsOf(out)
		res.Queues = append(res.Queues, r)
	}
	return res, nil
}

// CostAt is the month's cost with spot hours at spotRatio of on demand.
func (r Result) CostAt(spotRatio float64) float64 {
	total := 0.0
	for _, s := range r.Stacks {
		total += s.OnDemandUSD + s.SpotAtOnDemandUSD*spotRatio
	}
	return round2(total)
}

// waitAt is one job's wait and when it was scheduled.
type waitAt struct {
	wait float64
	at   int
}

func waitsOf(xs []float64) Waits {
	mean, p95 := meanP95(xs)
	return Waits{Jobs: len(xs), MeanWaitSeconds: mean, P95WaitSeconds: p95}
}

// Metrics are what the scaler reads from Buildkite's agent metrics for
// its queue (buildkite.AgentMetrics, 1.12.0): jobs scheduled (runnable, no
// agent yet), running, and waiting (behind a wait or block step, or on
// another job), and the queue's registered agents, whichever stack runs
// them.
type Metrics struct {
	Scheduled, Running, Waiting, TotalAgents int
}

// ASG is what the scaler reads of its group (asg.go Describe, 1.12.0):
// the desired capacity, the instances InService (ActualCount; a Pending
// one is not counted), and the group's bounds.
type ASG struct {
	Desired, InService, MinSize, MaxSize int
}

// availabilityThreshold is AVAILABILITY_THRESHOLD's default (lambda/main.go
// 1.12.0: EnvFloat("AVAILABILITY_THRESHOLD", 0.5)); the template passes
// none.
const availabilityThreshold = 0.5

// DesiredCount is the instance count the scaler sets, as 1.12.0 computes
// it, one agent per instance:
//
//   - scaling_calculator.go DesiredCount: agents required are the scheduled
//     jobs plus the running ones, or plus the waiting ones instead when
//     ScaleOutForWaitingJobs is on and more wait than run; the availability
//     is the queue's agents over the instances InService (the desired
//     count while none is); below 50 %, with jobs to run, and only when
//     the group has converged (InService == desired), it sets at least
//     desired + 1 (1 from 0).
//   - scaler.go Run: then a buffer, when any job is scheduled, running or
//     waiting, of ceil(jobs counted / agents per instance), at most
//     InstanceBuffer, where jobs counted are scheduled and running, and
//     waiting ones with ScaleOutForWaitingJobs; then MaxSize and MinSize.
func DesiredCount(s Stack, m Metrics, g ASG) int {
	required := m.Scheduled
	if s.ScaleOutForWaitingJobs && m.Waiting > m.Running {
		required += m.Waiting
	} else {
		required += m.Running
	}
	desired := required // perInstance: ceil(required / 1)
	instances := g.InService
	if instances == 0 {
		instances = g.Desired
	}
	availability := 1.0
	if instances > 0 {
		availability = float64(m.TotalAgents) / float64(instances)
	}
	if required > 0 && availability < availabilityThreshold && g.InService == g.Desired {
		desired = max(desired, g.Desired+1)
	}
	if m.Scheduled > 0 || m.Running > 0 || m.Waiting > 0 {
		counted := m.Scheduled + m.Running
		if s.ScaleOutForWaitingJobs {
			counted += m.Waiting
		}
		desired += min(counted, s.InstanceBuffer)
	}
	return max(g.MinSize, min(g.MaxSize, desired))
}

// Decide is what the scaler does with DesiredCount (scaler.go Run,
// 1.12.0): it scales out when the count exceeds both the instances
// InService (the desired count while none is) and the desired capacity;
// it scales in when the count is below the desired capacity; otherwise it
// leaves the group alone. Cooldowns and DisableScaleIn are the caller's.
func Decide(desired int, g ASG) (change int) {
	instances := g.InService
	if instances == 0 {
		instances = g.Desired
	}
	switch {
	case desired > instances && desired > g.Desired:
		return desired - g.Desired
	case desired < g.Desired:
		return desired - g.Desired
	}
	return 0
}

// asgVictim picks the instance the ASG terminates when desired capacity
// falls: never a scale-in-protected one. AWS first balances zones (a
// victim from the zone with the most instances), then applies the stack's
// termination policies in order (aws-stack.yml v6.71.1:
// OldestLaunchConfiguration, which ties, every instance sharing one launch
// template; then ClosestToNextInstanceHour); a tie left is broken by the
// oldest instance (AWS picks at random; the simulator fixes one).
func asgVictim(live []*instance, protected bool, t int) *instance {
	if protected {
		return nil
	}
	perAZ := make([]int, availableAZs)
	for _, in := range live {
		perAZ[in.az]++
	}
	zone := 0
	for z := range perAZ {
		if perAZ[z] > perAZ[zone] {
			zone = z
		}
	}
	var best *instance
	for _, in := range live {
		if in.az != zone {
			continue
		}
		if best == nil || (t-in.launched)%3600 > (t-best.launched)%3600 ||
			((t-in.launched)%3600 == (t-best.launched)%3600 && in.launched < best.launched) {
			best = in
		}
	}
	return best
}

// chance is a deterministic coin with probability p for (seed, id, t).
func chance(seed, id, t int, p float64) bool {
	if p <= 0 {
		return false
	}
	h := uint64(id)*0x9E3779B97F4A7C15 ^ uint64(t)*0xBF58476D1CE4E5B9 ^ uint64(seed)*0xD6E8FEB86659FD93
	h ^= h >> 31
	h *= 0x94D049BB133111EB
	h ^= h >> 29
	return float64(h%1_000_000_000)/1_000_000_000 < p
}

func meanP95(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	sorted := append([]float64(nil), xs...)
	sort.Float64s(sorted)
	sum := 0.0
	for _, x := range sorted {
		sum += x
	}
	idx := int(math.Ceil(0.95*float64(len(sorted)))) - 1
	return round2(sum / float64(len(sorted))), sorted[max(0, idx)]
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// ParseTrace reads a CSV trace: start_seconds,queue,duration_seconds and,
// optionally, created_seconds (when the job was made, if it then waited on
// another job or a block step until start_seconds) and retries (how many
// times it fails and a retry rule runs it again).
func ParseTrace(text string) ([]Job, error) {
	const want = "start_seconds,queue,duration_seconds[,created_seconds[,retries]]"
	var jobs []Job
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || (i == 0 && strings.HasPrefix(line, "start_seconds")) {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 3 || len(f) > 5 {
			return nil, fmt.Errorf("trace line %d: want %s, got %q", i+1, want, line)
		}
		start, err1 := strconv.Atoi(f[0])
		dur, err2 := strconv.Atoi(f[2])
		created, err3 := start, error(nil)
		if len(f) >= 4 {
			created, err3 = strconv.Atoi(f[3])
		}
		retries, err4 := 0, error(nil)
		if len(f) == 5 {
			retries, err4 = strconv.Atoi(f[4])
		}
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || start < 0 || dur <= 0 || f[1] == "" ||
			created < 0 || created > start || retries < 0 {
			return nil, fmt.Errorf("trace line %d: %q is not %s (created at or before start, retries 0 or more)", i+1, line, want)
		}
		jobs = append(jobs, Job{Start: start, Queue: f[1], Duration: dur, Created: created, Retries: retries})
	}
	return jobs, nil
}

// stableNumber is a number that depends only on parts (FNV-1a, each part
// ended by 0xff): the sample trace is the same on every machine.
func stableNumber(parts ...string) uint32 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0xff})
	}
	return uint32(h.Sum64() >> 32)
}
