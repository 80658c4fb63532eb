// Package fleet owns the fleet simulator: it replays a job trace against
// the agent stacks a plan declares, with the scaling rules of the pinned
// Elastic CI Stack (v6.71.1) and its buildkite-agent-scaler (1.12.0), and
// reports what the settings cost and do to jobs: waits, jobs killed by a
// scale-in, and how many jobs ran on a warm instance.
//
// Each rule the simulation applies names its source beside it. Where the
// sources leave a choice to chance (which idle agent takes a job, when a
// spot instance is reclaimed), the simulator fixes one deterministically
// and says so; the results are a model, not a measurement.
package fleet

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

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
}

// HasScaler: the template creates the scaler only when the size can vary
// (aws-stack.yml v6.71.1, condition HasVariableSize: MaxSize != MinSize).
func (s Stack) HasScaler() bool { return s.MaxSize != s.MinSize }

// Job is one job of a trace: when it was scheduled, on which queue, and how
// long it runs once an agent takes it.
type Job struct {
	Start, Duration int
	Queue           string
}

// Options are the model's assumptions.
type Options struct {
	// BootSeconds from launch to an agent taking jobs: instance start,
	// bootstrap, agent registration. An assumption (3 minutes).
	BootSeconds int
	// SpotInterruptionsPerHour is the chance that a spot instance is
	// reclaimed in an hour. An assumption (0.5 %).
	SpotInterruptionsPerHour float64
	// HourlyPrice prices an instance type on demand; SpotRatio is the share
	// of it a spot hour costs.
	HourlyPrice func(instanceType string) (float64, error)
	SpotRatio   float64
}

// DefaultOptions are the assumptions the README's figures use.
func DefaultOptions(price func(string) (float64, error), spotRatio float64) Options {
	return Options{BootSeconds: 180, SpotInterruptionsPerHour: 0.005, HourlyPrice: price, SpotRatio: spotRatio}
}

// scalerPeriod: the scaler Lambda runs every ScalerEventSchedulePeriod
// (template default "1 minute").
const scalerPeriod = 60

// tick is the simulation's step: every rule is evaluated each 10 s.
const tick = 10

// StackResult is what one stack did over the trace.
type StackResult struct {
	Name           string  `json:"name"`
	Queue          string  `json:"queue"`
	KilledJobs     int     `json:"killedJobs"`
	MonthlyCostUSD float64 `json:"monthlyCostUSD"`
}

// QueueResult is what the jobs of one queue saw.
type QueueResult struct {
	Queue           string  `json:"queue"`
	WarmBuildShare  float64 `json:"warmBuildShare"`
	MeanWaitSeconds float64 `json:"meanWaitSeconds"`
	P95WaitSeconds  float64 `json:"p95WaitSeconds"`
	KilledJobs      int     `json:"killedJobs"`
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
	launched, readyAt int
	spot              bool
	job               *queued // running job, or nil
	jobEnd, idleSince int
	done              map[string]bool // queues it finished a job of: its cache is warm for them
	draining, gone    bool
}

type queued struct {
	job    Job
	killed int // times it was killed and put back
}

type group struct {
	stack           Stack
	desired         int
	lastIn, lastOut int
	killed          int
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
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Start < jobs[j].Start })
	groups := make([]*group, len(stacks))
	served := map[string]bool{}
	for i, s := range stacks {
		if s.MaxSize < s.MinSize || s.MinSize < 0 {
			return Result{}, fmt.Errorf("fleet: stack %s: MinSize %d, MaxSize %d", s.Name, s.MinSize, s.MaxSize)
		}
		groups[i] = &group{stack: s, desired: s.MinSize, lastIn: -1 << 30, lastOut: -1 << 30}
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
		insts = append(insts, &instance{id: nextID, stack: g, launched: t, readyAt: t + opts.BootSeconds, spot: spot, done: map[string]bool{}, idleSince: t + opts.BootSeconds})
		nextID++
	}
	queues := map[string][]*queued{}
	waits := map[string][]float64{}
	warm := map[string]int{}
	ran := map[string]int{}
	killedQ := map[string]int{}
	kill := func(in *instance, t int) {
		if in.job == nil {
			return
		}
		groups[in.stack].killed++
		killedQ[in.job.job.Queue]++
		in.job.killed++
		// A killed job is retried: back to the front of its queue.
		queues[in.job.job.Queue] = append([]*queued{in.job}, queues[in.job.job.Queue]...)
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

	next := 0
	for t := 0; t <= end; t += tick {
		// Forget terminated instances: every scan below is per live one.
		insts = slices.DeleteFunc(insts, func(in *instance) bool { return in.gone })
		for next < len(jobs) && jobs[next].Start <= t {
			queues[jobs[next].Queue] = append(queues[jobs[next].Queue], &queued{job: jobs[next]})
			next++
		}
		for _, in := range insts {
			if in.gone {
				continue
			}
			g := groups[in.stack]
			g.instanceSeconds += tick
			if in.spot {
				g.spotSeconds += tick
			}
			if in.job != nil && t >= in.jobEnd {
				in.done[in.job.job.Queue] = true
				in.job = nil
				in.idleSince = t
			}
			// Spot: reclaimed at random; the job on it dies.
			if in.spot && chance(in.id, t, opts.SpotInterruptionsPerHour*float64(tick)/3600) {
				kill(in, t)
				in.gone = true // the ASG launches a replacement below
				continue
			}
			// A draining instance (Elastic CI mode's graceful scale-in)
			// stops after its job.
			if in.draining && in.job == nil {
				in.gone = true
				g.desired--
				continue
			}
			// Idle self-termination: the agent exits after the idle
			// timeout and terminate-instance asks the ASG to decrement;
			// at MinSize the decrement is refused and the instance is
			// terminated without it, so the ASG replaces it
			// (scripts/terminate-instance, v6.71.1).
			s := g.stack
			if s.ScaleInIdleSeconds > 0 && in.job == nil && t >= in.readyAt && t-in.idleSince >= s.ScaleInIdleSeconds {
				in.gone = true
				if g.desired > s.MinSize {
					g.desired--
				}
			}
		}
		// The scaler, once a minute, per stack with a scaler.
		if t%scalerPeriod == 0 {
			for gi, g := range groups {
				s := g.stack
				if !s.HasScaler() {
					continue
				}
				// scaler.go Run: desired = scheduled + running jobs (one
				// agent per instance) + InstanceBuffer, within Min and Max.
				want := len(queues[s.Queue]) + running(s.Queue) + s.InstanceBuffer
				want = max(s.MinSize, min(s.MaxSize, want))
				switch {
				case want > g.desired && t-g.lastOut >= s.ScaleOutCooldown:
					g.desired, g.lastOut = want, t
				case want < g.desired && (!s.DisableScaleIn || s.ElasticCIMode) && t-g.lastIn >= s.ScaleInCooldown:
					// scaler.go scaleIn: DisableScaleIn stops it unless in
					// Elastic CI mode; the cooldown counts from the last
					// scale-in.
					if !s.ElasticCIMode {
						g.desired, g.lastIn = want, t
						break
					}
					// Elastic CI mode terminates the oldest instances
					// itself (sorted by launch time, oldest first),
					// gracefully: each stops after its job and leaves with
					// a decrement of the desired capacity.
					g.lastIn = t
					live := alive(gi)
					sort.Slice(live, func(i, j int) bool { return live[i].launched < live[j].launched })
					for i, n := 0, 0; i < len(live) && n < g.desired-want; i++ {
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
					if !in.gone && !in.draining && in.job == nil && t >= in.readyAt && groups[in.stack].stack.Queue == queue {
						taker = in
						break
					}
				}
				if taker == nil {
					break
				}
				j := waiting[0]
				waiting = waiting[1:]
				taker.job, taker.jobEnd = j, t+j.job.Duration
				if j.killed == 0 {
					waits[queue] = append(waits[queue], float64(t-j.job.Start))
					ran[queue]++
					if taker.done[queue] {
						warm[queue]++
					}
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
		res.Stacks = append(res.Stacks, StackResult{Name: g.stack.Name, Queue: g.stack.Queue, KilledJobs: g.killed, MonthlyCostUSD: round2(monthly)})
		res.TotalMonthlyCostUSD += monthly
	}
	res.TotalMonthlyCostUSD = round2(res.TotalMonthlyCostUSD)
	var names []string
	for q := range served {
		names = append(names, q)
	}
	sort.Strings(names)
	for _, q := range names {
		r := QueueResult{Queue: q, KilledJobs: killedQ[q]}
		if ran[q] > 0 {
			r.WarmBuildShare = round2(float64(warm[q]) / float64(ran[q]))
			r.MeanWaitSeconds, r.P95WaitSeconds = meanP95(waits[q])
		}
		res.Queues = append(res.Queues, r)
	}
	return res, nil
}

// asgVictim picks the instance the ASG terminates when desired capacity
// falls: never a scale-in-protected one; otherwise the default termination
// policy's last rule, ClosestToNextInstanceHour (all instances share a
// launch template, so OldestLaunchConfiguration ties), then the oldest.
func asgVictim(live []*instance, protected bool, t int) *instance {
	if protected {
		return nil
	}
	var best *instance
	for _, in := range live {
		if best == nil || (t-in.launched)%3600 > (t-best.launched)%3600 ||
			((t-in.launched)%3600 == (t-best.launched)%3600 && in.launched < best.launched) {
			best = in
		}
	}
	return best
}

// chance is a deterministic coin with probability p for (id, t).
func chance(id, t int, p float64) bool {
	if p <= 0 {
		return false
	}
	h := uint64(id)*0x9E3779B97F4A7C15 ^ uint64(t)*0xBF58476D1CE4E5B9
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

// ParseTrace reads a CSV trace: start_seconds,queue,duration_seconds.
func ParseTrace(text string) ([]Job, error) {
	var jobs []Job
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || (i == 0 && strings.HasPrefix(line, "start_seconds")) {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 3 {
			return nil, fmt.Errorf("trace line %d: want start_seconds,queue,duration_seconds, got %q", i+1, line)
		}
		start, err1 := strconv.Atoi(f[0])
		dur, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || start < 0 || dur <= 0 || f[1] == "" {
			return nil, fmt.Errorf("trace line %d: %q is not start_seconds,queue,duration_seconds", i+1, line)
		}
		jobs = append(jobs, Job{Start: start, Queue: f[1], Duration: dur})
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
