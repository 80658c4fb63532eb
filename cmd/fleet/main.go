// Command fleet replays job traces against a stack's agent stacks, as its
// plan declares them, with the scaling rules of the pinned Elastic CI Stack
// and agent-scaler (internal/fleet), and reports per stack the monthly cost
// and the jobs killed, and per queue the waits, the jobs killed and the
// share of jobs that ran on a warm instance.
//
//	go run ./cmd/fleet -stack prod
//	go run ./cmd/fleet -stack prod -trace busy -boot 300 -seed 3 -spot-ratio 0.55
//	go run ./cmd/fleet -stack prod -set buildkite-builders-burst.MaxSize=2 -trace my-trace.csv
//	go run ./cmd/fleet -stack prod -compare docs/fleet/candidates.json -out docs/fleet/compare
//	BUILDKITE_API_TOKEN=... go run ./cmd/fleet -from-buildkite ORG -since 30d -o mine.csv
//
// Without -trace it replays the sample trace; -trace takes the shipped
// traces by name (sample, bursty, busy) or CSV files, comma-separated. With
// -compare it judges each candidate setting of a JSON file over a sweep of
// the uncertain assumptions (boot time, spot price, spot interruptions) on
// every trace, prints one table of worst cases and medians, and writes it
// as OUT.json and as a chart of worst cost against worst wait, OUT.svg.
// -from-buildkite writes an organisation's own job history as a trace.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"mtrlz.dev/ci-infra/internal/cost"
	"mtrlz.dev/ci-infra/internal/fleet"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/stacks"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type sets map[string]string

func (s sets) String() string { return fmt.Sprint(map[string]string(s)) }

func (s sets) Set(v string) error {
	key, value, ok := strings.Cut(v, "=")
	if !ok || !strings.Contains(key, ".") {
		return errors.New("want STACK.PARAM=VALUE, e.g. buildkite-builders.DisableScaleIn=false")
	}
	s[key] = value
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("fleet", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "prod", "stack whose agent stacks to simulate: reads Pulumi.<stack>.yaml")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	tracePaths := flags.String("trace", "", "comma-separated traces: shipped ones by name ("+strings.Join(fleet.ShippedTraces, ", ")+
		") or CSV files start_seconds,queue,duration_seconds[,created_seconds[,retries]] (default: sample; with -compare, every shipped trace)")
	defaults := fleet.DefaultOptions(nil, cost.SpotPriceRatio)
	sweepDefaults := fleet.DefaultSweep()
	coldPenalty := flags.Int("cold-penalty", fleet.DefaultColdPenaltySeconds, "seconds a build takes longer on a cold builder")
	boot := flags.Int("boot", defaults.BootSeconds, "seconds from launch to an agent taking jobs (one run)")
	spotRatio := flags.Float64("spot-ratio", defaults.SpotRatio, "a spot hour's price as a share of on demand (one run)")
	interruptions := flags.Float64("interruptions", defaults.SpotInterruptionsPerHour, "chance a spot instance is reclaimed in an hour")
	seed := flags.Int("seed", 1, "which month of spot interruptions (one run)")
	sweepBoots := flags.String("sweep-boot", joinInts(sweepDefaults.BootSeconds), "with -compare: boot times to sweep, seconds")
	sweepSpot := flags.String("sweep-spot", joinFloats(sweepDefaults.SpotRatios), "with -compare: spot price ratios to sweep")
	sweepSeeds := flags.Int("sweep-seeds", sweepDefaults.Seeds, "with -compare: seeds to sweep (1..N)")
	candidates := flags.String("compare", "", "JSON list of candidate settings {name, set} to compare over the sweep")
	out := flags.String("out", "fleet-compare", "with -compare: write OUT.json and OUT.svg")
	asJSON := flags.Bool("json", false, "print one JSON document")
	fromBuildkite := flags.String("from-buildkite", "", "ORG: write the organisation's job history as a trace (BUILDKITE_API_TOKEN; see -since, -api, -o)")
	since := flags.String("since", "30d", "with -from-buildkite: how far back, e.g. 30d or 72h")
	api := flags.String("api", "https://api.buildkite.com/", "with -from-buildkite: the REST API's base URL")
	traceOut := flags.String("o", "", "with -from-buildkite: write the trace here (default: standard output)")
	overrides := sets{}
	flags.Var(overrides, "set", "STACK.PARAM=VALUE: override a template parameter of one agent stack (repeatable)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	if *fromBuildkite != "" {
		return exportHistory(*fromBuildkite, *since, *api, *traceOut, stdout, stderr)
	}
	opts, err := plan.LoadOptions(*dir, *stack)
	if err != nil {
		return fail(err)
	}
	p, err := plan.Run(stacks.Build, opts)
	if err != nil {
		return fail(err)
	}
	version := opts.Config["ci-infra:elasticStackVersion"]
	names := *tracePaths
	if names == "" {
		names = "sample"
		if *candidates != "" {
			names = strings.Join(fleet.ShippedTraces, ",")
		}
	}
	traces, err := readTraces(names)
	if err != nil {
		return fail(err)
	}
	region := opts.Config["aws:region"]
	price := func(instanceType string) (float64, error) { return cost.HourlyPrice(region, instanceType) }
	simOpts := fleet.DefaultOptions(price, *spotRatio)
	simOpts.ColdPenaltySeconds = map[string]int{"builders": *coldPenalty}
	simOpts.BootSeconds, simOpts.Seed, simOpts.SpotInterruptionsPerHour = *boot, *seed, *interruptions
	stacksFor := func(set map[string]string) ([]fleet.Stack, error) {
		merged := map[string]string{}
		for k, v := range overrides {
			merged[k] = v
		}
		for k, v := range set {
			merged[k] = v
		}
		return fleet.StacksOf(p, version, merged)
	}
	if *candidates != "" {
		cs, err := readCandidates(*candidates)
		if err != nil {
			return fail(err)
		}
		sweep := fleet.Sweep{Seeds: *sweepSeeds, ColdPenaltySeconds: *coldPenalty, SpotInterruptionsPerHour: *interruptions}
		if sweep.BootSeconds, err = parseInts(*sweepBoots); err != nil {
			return fail(fmt.Errorf("-sweep-boot: %w", err))
		}
		if sweep.SpotRatios, err = parseFloats(*sweepSpot); err != nil {
			return fail(fmt.Errorf("-sweep-spot: %w", err))
		}
		if err := sweep.Validate(); err != nil {
			return fail(err)
		}
		rows, err := compare(cs, func(set map[string]string) (fleet.Outcome, error) {
			agentStacks, err := stacksFor(set)
			if err != nil {
				return fleet.Outcome{}, err
			}
			return fleet.RunSweep(agentStacks, traces, simOpts, sweep, comparedQueues)
		})
		if err != nil {
			return fail(err)
		}
		var traceNames []string
		for _, t := range traces {
			traceNames = append(traceNames, t.Name)
		}
		title := fmt.Sprintf("Stack %s; traces %s; boot %s s, spot %s of on demand, %d seeds, cold builds +%d s",
			*stack, strings.Join(traceNames, ", "), *sweepBoots, *sweepSpot, *sweepSeeds, *coldPenalty)
		fmt.Fprintf(stdout, "%s: %d runs a candidate; worst and median over them; waits in seconds, in working hours; ratio of worst cost to %q's\n\n",
			title, rows[0].Runs, rows[0].Name)
		writeTable(stdout, rows)
		raw, err := json.MarshalIndent(map[string]any{"title": title, "rows": rows}, "", "  ")
		if err != nil {
			return fail(err)
		}
		if err := os.WriteFile(*out+".json", append(raw, '\n'), 0o644); err != nil {
			return fail(err)
		}
		f, err := os.Create(*out + ".svg")
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if err := writeSVG(f, rows, title); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "\nWrote %s.json and %s.svg\n", *out, *out)
		return 0
	}
	if len(traces) != 1 {
		return fail(errors.New("-trace: one trace without -compare"))
	}
	agentStacks, err := stacksFor(nil)
	if err != nil {
		return fail(err)
	}
	jobs := traces[0].Jobs
	res, err := fleet.Simulate(agentStacks, jobs, simOpts)
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fail(err)
		}
		return 0
	}
	fmt.Fprintf(stdout, "Fleet of stack %q over %d jobs (trace %s; boot %d s, spot at %.2f of on demand, seed %d):\n\n",
		*stack, len(jobs), traces[0].Name, *boot, *spotRatio, *seed)
	fmt.Fprintf(stdout, "%-28s %-10s %12s %8s\n", "stack", "queue", "USD/month", "killed")
	for _, s := range res.Stacks {
		fmt.Fprintf(stdout, "%-28s %-10s %12.2f %8d\n", s.Name, s.Queue, s.MonthlyCostUSD, s.KilledJobs)
	}
	fmt.Fprintf(stdout, "%-28s %-10s %12.2f\n\n", "total", "", res.TotalMonthlyCostUSD)
	fmt.Fprintf(stdout, "%-10s %10s %12s %12s %14s %8s %10s %8s\n", "queue", "warm", "mean wait s", "p95 wait s", "p95 work s", "killed", "unserved", "reruns")
	for _, q := range res.Queues {
		fmt.Fprintf(stdout, "%-10s %10.2f %12.1f %12.1f %14.1f %8d %10d %8d\n", q.Queue, q.WarmBuildShare, q.MeanWaitSeconds, q.P95WaitSeconds,
			q.WorkingHours.P95WaitSeconds, q.KilledJobs, q.UnservedJobs, q.FailedRuns+q.RetriedJobs)
	}
	return 0
}

// readTraces reads comma-separated traces: a shipped one by name, or a
// CSV file.
func readTraces(names string) ([]fleet.Trace, error) {
	var out []fleet.Trace
	for _, name := range strings.Split(names, ",") {
		if slices.Contains(fleet.ShippedTraces, name) {
			t, err := fleet.Shipped(name)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			continue
		}
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("-trace %s: not a shipped trace (%s), nor a file: %w", name, strings.Join(fleet.ShippedTraces, ", "), err)
		}
		jobs, err := fleet.ParseTrace(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, fleet.Trace{Name: name, Jobs: jobs})
	}
	return out, nil
}

func parseInts(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a comma-separated list of whole numbers", list)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseFloats(list string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(list, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a comma-separated list of numbers", list)
		}
		out = append(out, x)
	}
	return out, nil
}

func joinInts(xs []int) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, strconv.Itoa(x))
	}
	return strings.Join(parts, ",")
}

func joinFloats(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, strconv.FormatFloat(x, 'g', -1, 64))
	}
	return strings.Join(parts, ",")
}
