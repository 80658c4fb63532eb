package stacks

// The agent stacks as one typed config object, ci-infra:agentStacks: one
// struct per stack, its defaults (the production values), its validation
// by key path, and its conversion to the component's Args. Adding a
// parameter is a field here (with its comment, which docs/configuration.md
// shows), a line in its args method, and a row in the tests.

import (
	"fmt"
	"slices"
	"strings"

	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/internal/cost"
)

// AgentStacks is the key ci-infra:agentStacks. A stack file sets only the
// fields it changes, e.g.
//
//	pulumi config set --path agentStacks.test.maxSize 30
//
// and every other field keeps its default (DefaultAgentStacks).
type AgentStacks struct {
	// The seed's "buildkite" stack: spot agents that run the tests and
	// scale to zero.
	Test TestAgents `json:"test"`
	// The seed's "buildkite-builders": always-on builders that keep a warm
	// build cache, and burst builders on the same queue.
	Builders Builders `json:"builders"`
	// The deploy agents: the only agents the CI roles trust, running only
	// their allow-list (this repository's deploy branch, pushed, at
	// origin's head); they alone sign pipelines.
	Deploy DeployAgents `json:"deploy"`
}

// TestAgents is agentStacks.test.
type TestAgents struct {
	// CloudFormation stack of the test agents.
	StackName string `json:"stackName"`
	// Buildkite queue of the test agents.
	Queue string `json:"queue"`
	// Instances kept when idle (0 scales to zero).
	MinSize int `json:"minSize"`
	// Most instances: a cap, which costs nothing while unused; a Monday's
	// burst of builds needs about 40 (cmd/fleet -trace bursty). At most
	// agentstack.MaxSizeCeiling, which the policy pack also enforces.
	MaxSize int `json:"maxSize"`
	// Instance types in order of preference; each must be in
	// internal/cost/prices.csv.
	InstanceTypes []string `json:"instanceTypes"`
	// Seconds an agent may sit idle before it terminates itself (at least
	// 60). It must outlast a build: with scaleOutForWaitingJobs an agent
	// boots when the build starts and waits for its test job.
	ScaleInIdleSeconds int `json:"scaleInIdleSeconds"`
	// Share launched on demand (0-100); the rest are spot, cheaper but
	// reclaimable mid-build: a reclaimed job ends with signal_reason
	// agent_stop (or exit -1), which pipeline.yml's retry rules retry.
	OnDemandPercentage int `json:"onDemandPercentage"`
	// Count jobs still waiting on their build step as needing an agent, so
	// that agents boot while the build runs (ScaleOutForWaitingJobs).
	ScaleOutForWaitingJobs bool `json:"scaleOutForWaitingJobs"`
	// Agents booted ahead of the jobs while any job needs one: one per
	// job, up to this many (InstanceBuffer). 0 to maxSize. Chosen with
	// cmd/fleet -compare (docs/cost-and-capacity.md).
	InstanceBuffer int `json:"instanceBuffer"`
	// Seconds between two scale-outs (ScaleOutCooldownPeriod; the
	// template's default is 300): 0 lets a second build's jobs add agents
	// at once.
	ScaleOutCooldownSeconds int `json:"scaleOutCooldownSeconds"`
}

// Builders is agentStacks.builders: minSize always-on builders in one
// fixed stack, and up to maxSize minus minSize burst builders in another
// (docs/decisions.md, "How the builders keep their cache").
type Builders struct {
	// CloudFormation stack of the always-on builders.
	StackName string `json:"stackName"`
	// Buildkite queue of all builders.
	Queue string `json:"queue"`
	// Builders always on, keeping their cache (at least 1): a fixed stack,
	// which no scale-in touches.
	MinSize int `json:"minSize"`
	// Most builders; those above minSize are burst builders.
	MaxSize int `json:"maxSize"`
	// Instance types of all builders; each must be in
	// internal/cost/prices.csv.
	InstanceTypes []string `json:"instanceTypes"`
	// Share of the always-on builders launched on demand (0-100). Keep
	// 100: a reclaimed spot builder takes its warm cache with it.
	OnDemandPercentage int `json:"onDemandPercentage"`
	// The burst builders.
	Burst BurstBuilders `json:"burst"`
}

// BurstBuilders is agentStacks.builders.burst.
type BurstBuilders struct {
	// CloudFormation stack of the burst builders (absent when maxSize
	// equals minSize).
	StackName string `json:"stackName"`
	// Seconds a burst builder may sit idle before it leaves: long enough
	// to take the next build of a busy afternoon warm, short enough not to
	// idle through a night (at least 60).
	ScaleInIdleSeconds int `json:"scaleInIdleSeconds"`
	// Share launched on demand (0-100); the rest are spot. A reclaimed
	// burst build is retried (pipeline.yml's retry rules).
	OnDemandPercentage int `json:"onDemandPercentage"`
	// Burst builders booted ahead of the builds while any build needs one
	// (InstanceBuffer). 0 to maxSize minus minSize.
	InstanceBuffer int `json:"instanceBuffer"`
	// Seconds between two scale-outs (ScaleOutCooldownPeriod).
	ScaleOutCooldownSeconds int `json:"scaleOutCooldownSeconds"`
	// Burst builders kept up in working hours.
	WorkingHours WorkingHours `json:"workingHours"`
}

// WorkingHours is agentStacks.builders.burst.workingHours: the template's
// scheduled scaling.
type WorkingHours struct {
	// Burst builders kept up from start to end, so that a burst of builds
	// in working hours finds builders booted. 0: no scheduled scaling. At
	// most maxSize minus minSize.
	MinSize int `json:"minSize"`
	// Cron expression (minute hour day-of-month month day-of-week) of the
	// start of working hours, in timezone: 14:00 UTC is 09:00 or 10:00 in
	// New York.
	Start string `json:"start"`
	// Cron expression of the end of working hours, in timezone.
	End string `json:"end"`
	// IANA time zone of start and end, e.g. UTC or America/New_York.
	Timezone string `json:"timezone"`
}

// DeployAgents is agentStacks.deploy: 0 to 1 instance, on demand, one job
// per instance, each job's signature verified.
type DeployAgents struct {
	// CloudFormation stack of the deploy agents.
	StackName string `json:"stackName"`
	// Buildkite queue of the deploy agents; no other stack may use it.
	Queue string `json:"queue"`
	// Instance type of the deploy agent; it must be in
	// internal/cost/prices.csv.
	InstanceType string `json:"instanceType"`
	// Seconds the deploy agent may sit idle before it terminates itself
	// (at least 60): a deploy waits for its approver on it.
	ScaleInIdleSeconds int `json:"scaleInIdleSeconds"`
}

// DefaultAgentStacks are production's agent stacks, chosen with cmd/fleet
// -compare over the sweep (docs/cost-and-capacity.md): what a stack gets
// for every field it does not set.
func DefaultAgentStacks() AgentStacks {
	return AgentStacks{
		Test: TestAgents{
			StackName:               "buildkite",
			Queue:                   "default",
			MinSize:                 0,
			MaxSize:                 40,
			InstanceTypes:           []string{"c5.2xlarge"},
			ScaleInIdleSeconds:      900,
			OnDemandPercentage:      0,
			ScaleOutForWaitingJobs:  true,
			InstanceBuffer:          8,
			ScaleOutCooldownSeconds: 0,
		},
		Builders: Builders{
			StackName:          "buildkite-builders",
			Queue:              "builders",
			MinSize:            1,
			MaxSize:            5,
			InstanceTypes:      []string{"c5.2xlarge"},
			OnDemandPercentage: 100,
			Burst: BurstBuilders{
				StackName:               "buildkite-builders-burst",
				ScaleInIdleSeconds:      1800,
				OnDemandPercentage:      0,
				InstanceBuffer:          2,
				ScaleOutCooldownSeconds: 0,
				WorkingHours: WorkingHours{
					MinSize:  1,
					Start:    "0 14 * * MON-FRI",
					End:      "0 23 * * MON-FRI",
					Timezone: "UTC",
				},
			},
		},
		Deploy: DeployAgents{
			StackName:          "buildkite-deploy",
			Queue:              "deploy",
			InstanceType:       "c5.xlarge",
			ScaleInIdleSeconds: 900,
		},
	}
}

// StackNames are the CloudFormation stacks, in the order the program
// declares them (the burst stack included even when it has no builder:
// its name stays reserved).
func (s AgentStacks) StackNames() []string {
	return []string{s.Test.StackName, s.Builders.StackName, s.Builders.Burst.StackName, s.Deploy.StackName}
}

// burst is how many burst builders there may be.
func (b Builders) burst() int { return max(0, b.MaxSize-b.MinSize) }

// fieldProblem is a problem of one field, by its path below agentStacks.
type fieldProblem struct {
	Path string
	Err  error
}

// Validate checks every field and the relations between the stacks in
// region; each problem names its path below agentStacks.
func (s AgentStacks) Validate(region string) []fieldProblem {
	var ps []fieldProblem
	bad := func(path, format string, args ...any) {
		ps = append(ps, fieldProblem{path, fmt.Errorf(format, args...)})
	}
	checkTypes := func(path string, types []string) {
		seen := map[string]bool{}
		for _, t := range types {
			if seen[t] {
				bad(path, "%q is listed twice", t)
			}
			seen[t] = true
			if _, err := cost.HourlyPrice(region, t); err != nil && slices.Contains(cost.Regions(), region) {
				bad(path, "%v", err)
			}
		}
	}
	checkSize := func(prefix, queue string, minSize, maxSize int, types []string) {
		for _, p := range agentstack.ValidateSize(queue, minSize, maxSize, types) {
			bad(prefix+lowerFirst(p.Field), "%v", p.Err)
		}
		checkTypes(prefix+"instanceTypes", types)
	}
	checkName := func(path, name string) {
		if err := (agentstack.Args{StackName: name}).ValidateStackName(); err != nil {
			bad(path, "%v", err)
		}
	}
	checkPercentage := func(path string, pct int) {
		if pct < 0 || pct > 100 {
			bad(path, "must be a percentage from 0 to 100, got %d", pct)
		}
	}
	checkIdle := func(path string, seconds int, why string) {
		if seconds < 60 {
			bad(path, "must be at least 60 seconds (%s), got %d", why, seconds)
		}
	}
	checkCooldown := func(path string, seconds int) {
		if seconds < 0 {
			bad(path, "must be 0 or more seconds, got %d", seconds)
		}
	}

	t := s.Test
	checkName("test.stackName", t.StackName)
	checkSize("test.", t.Queue, t.MinSize, t.MaxSize, t.InstanceTypes)
	checkIdle("test.scaleInIdleSeconds", t.ScaleInIdleSeconds, "0 would keep idle test agents forever")
	checkPercentage("test.onDemandPercentage", t.OnDemandPercentage)
	if t.InstanceBuffer < 0 || t.InstanceBuffer > t.MaxSize {
		bad("test.instanceBuffer", "must be 0..test.maxSize (%d), got %d", t.MaxSize, t.InstanceBuffer)
	}
	checkCooldown("test.scaleOutCooldownSeconds", t.ScaleOutCooldownSeconds)

	b := s.Builders
	checkName("builders.stackName", b.StackName)
	checkSize("builders.", b.Queue, b.MinSize, b.MaxSize, b.InstanceTypes)
	if b.MinSize < 1 {
		bad("builders.minSize", "must be at least 1: the builders exist to keep a warm build cache, got %d", b.MinSize)
	}
	checkPercentage("builders.onDemandPercentage", b.OnDemandPercentage)
	bb, burst := b.Burst, b.burst()
	checkName("builders.burst.stackName", bb.StackName)
	checkIdle("builders.burst.scaleInIdleSeconds", bb.ScaleInIdleSeconds, "0 would keep idle burst builders forever")
	checkPercentage("builders.burst.onDemandPercentage", bb.OnDemandPercentage)
	if bb.InstanceBuffer < 0 || bb.InstanceBuffer > burst {
		bad("builders.burst.instanceBuffer", "must be 0..%d (builders.maxSize minus builders.minSize), got %d", burst, bb.InstanceBuffer)
	}
	checkCooldown("builders.burst.scaleOutCooldownSeconds", bb.ScaleOutCooldownSeconds)
	if wh := bb.WorkingHours; wh.MinSize < 0 || wh.MinSize > burst {
		bad("builders.burst.workingHours.minSize", "must be 0..%d (builders.maxSize minus builders.minSize), got %d", burst, wh.MinSize)
	} else if sc := bb.schedule(); sc != nil {
		fields := map[string]string{"Up": "start", "Down": "end", "Timezone": "timezone"}
		for _, p := range sc.Validate(burst) {
			bad("builders.burst.workingHours."+fields[p.Field], "%v", p.Err)
		}
	}

	d := s.Deploy
	checkName("deploy.stackName", d.StackName)
	if err := agentstack.ValidateQueue(d.Queue); err != nil {
		bad("deploy.queue", "%v", err)
	}
	checkTypes("deploy.instanceType", []string{d.InstanceType})
	checkIdle("deploy.scaleInIdleSeconds", d.ScaleInIdleSeconds, "0 would keep an idle deploy agent forever")

	// Relations: four CloudFormation stacks, three queues.
	names := map[string]string{}
	for _, n := range []struct{ path, name string }{
		{"test.stackName", t.StackName}, {"builders.stackName", b.StackName},
		{"builders.burst.stackName", bb.StackName}, {"deploy.stackName", d.StackName},
	} {
		if other, ok := names[n.name]; ok {
			bad(n.path, "%q is also %s; every agent stack needs a name of its own", n.name, other)
		}
		names[n.name] = n.path
	}
	if b.Queue == t.Queue {
		bad("builders.queue", "%q is also test.queue; pipelines pick builders by queue, so the queues must differ", b.Queue)
	}
	if d.Queue == t.Queue || d.Queue == b.Queue {
		bad("deploy.queue", "%q is also the queue of another stack: the CI roles trust this queue alone, so no other agent may serve it", d.Queue)
	}
	return ps
}

// schedule is the burst builders' working hours, or nil when none stay up.
func (bb BurstBuilders) schedule() *agentstack.Schedule {
	wh := bb.WorkingHours
	if wh.MinSize <= 0 {
		return nil
	}
	return &agentstack.Schedule{Up: wh.Start, Down: wh.End, Timezone: wh.Timezone, UpMinSize: wh.MinSize, DownMinSize: 0}
}

// args is the test agents' stack: shared plus this stack's own fields.
func (t TestAgents) args(shared agentstack.Args) agentstack.Args {
	a := shared
	a.StackName, a.Queue = t.StackName, t.Queue
	a.MinSize, a.MaxSize = t.MinSize, t.MaxSize
	a.InstanceTypes = t.InstanceTypes
	a.ScaleInIdleSeconds = t.ScaleInIdleSeconds
	a.OnDemandPercentage = t.OnDemandPercentage
	a.Scaling = agentstack.Scaling{ScaleOutForWaitingJobs: t.ScaleOutForWaitingJobs,
		ScaleOutCooldownSeconds: &t.ScaleOutCooldownSeconds, InstanceBuffer: t.InstanceBuffer}
	return a
}

// args are the builders' two stacks: the fixed baseline, which keeps its
// cache, and the burst stack, nil when there is no burst builder.
func (b Builders) args(shared agentstack.Args) (baseline agentstack.Args, burst *agentstack.Args) {
	baseline = shared
	baseline.StackName, baseline.Queue = b.StackName, b.Queue
	baseline.MinSize, baseline.MaxSize = b.MinSize, b.MinSize
	baseline.InstanceTypes = b.InstanceTypes
	baseline.OnDemandPercentage = b.OnDemandPercentage
	baseline.KeepWarm = true
	if b.burst() == 0 {
		return baseline, nil
	}
	bb := b.Burst
	a := shared
	a.StackName, a.Queue = bb.StackName, b.Queue
	a.MinSize, a.MaxSize = 0, b.burst()
	a.InstanceTypes = b.InstanceTypes
	a.ScaleInIdleSeconds = bb.ScaleInIdleSeconds
	a.OnDemandPercentage = bb.OnDemandPercentage
	a.Scaling = agentstack.Scaling{ScaleOutCooldownSeconds: &bb.ScaleOutCooldownSeconds,
		InstanceBuffer: bb.InstanceBuffer, Schedule: bb.schedule()}
	return baseline, &a
}

// args is the deploy agents' stack: one instance at most, on demand, one
// job per instance, every job's signature verified.
func (d DeployAgents) args(shared agentstack.Args) agentstack.Args {
	a := shared
	a.StackName, a.Queue = d.StackName, d.Queue
	a.MinSize, a.MaxSize = 0, 1
	a.InstanceTypes = []string{d.InstanceType}
	a.ScaleInIdleSeconds = d.ScaleInIdleSeconds
	a.OnDemandPercentage = 100
	a.VerifiesSignatures = true
	a.OneJobPerInstance = true
	return a
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// ParseAgentStacks reads a value of the config key (JSON, as the CLI
// passes it; empty when unset) onto the defaults: the program's one
// reader of agentStacks. On error it returns what it could read, the
// rest defaults, and a *ConfigError whose problems name their paths
// below key.
func ParseAgentStacks(key, raw string) (AgentStacks, error) {
	s := DefaultAgentStacks()
	if raw == "" {
		return s, nil
	}
	if errs := decodeOnto(key, raw, &s); len(errs) > 0 {
		return s, configError(errs)
	}
	return s, nil
}
