// Command fleet replays a job trace against a stack's agent stacks, as its
// plan declares them, with the scaling rules of the pinned Elastic CI Stack
// and agent-scaler (internal/fleet), and reports per stack the monthly cost
// and the jobs killed, and per queue the waits, the jobs killed and the
// share of jobs that ran on a warm instance.
//
//	go run ./cmd/fleet -stack prod
//	go run ./cmd/fleet -stack prod -json
//	go run ./cmd/fleet -stack prod -set buildkite-builders.MinSize=0 -trace my-trace.csv
//	go run ./cmd/fleet -stack prod -compare docs/fleet-candidates.json -trace bursty -out docs/fleet-bursty
//
// Without -trace it replays the sample trace (internal/fleet/sample-trace.csv);
// -trace bursty replays the second shipped trace (bursty-trace.csv). With
// -compare it replays each candidate setting of a JSON file and prints one
// table, and writes it as OUT.json and as a chart of cost against wait,
// OUT.svg.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	tracePath := flags.String("trace", "", "CSV trace start_seconds,queue,duration_seconds[,created_seconds], or bursty (default: the sample trace)")
	coldPenalty := flags.Int("cold-penalty", fleet.DefaultColdPenaltySeconds, "seconds a build takes longer on a cold builder")
	candidates := flags.String("compare", "", "JSON list of candidate settings {name, set} to compare side by side")
	out := flags.String("out", "fleet-compare", "with -compare: write OUT.json and OUT.svg")
	asJSON := flags.Bool("json", false, "print one JSON document")
	overrides := sets{}
	flags.Var(overrides, "set", "STACK.PARAM=VALUE: override a template parameter of one agent stack (repeatable)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
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
	text, traceName := fleet.SampleCSV, "the sample trace"
	switch *tracePath {
	case "":
	case "bursty":
		text, traceName = fleet.BurstyCSV, "the bursty trace"
	default:
		traceName = *tracePath
		raw, err := os.ReadFile(*tracePath)
		if err != nil {
			return fail(err)
		}
		text = string(raw)
	}
	jobs, err := fleet.ParseTrace(text)
	if err != nil {
		return fail(err)
	}
	region := opts.Config["aws:region"]
	price := func(instanceType string) (float64, error) { return cost.HourlyPrice(region, instanceType) }
	simOpts := fleet.DefaultOptions(price, cost.SpotPriceRatio)
	simOpts.ColdPenaltySeconds = map[string]int{"builders": *coldPenalty}
	simulate := func(set map[string]string) (fleet.Result, error) {
		merged := map[string]string{}
		for k, v := range overrides {
			merged[k] = v
		}
		for k, v := range set {
			merged[k] = v
		}
		agentStacks, err := fleet.StacksOf(p, version, merged)
		if err != nil {
			return fleet.Result{}, err
		}
		return fleet.Simulate(agentStacks, jobs, simOpts)
	}
	if *candidates != "" {
		cs, err := readCandidates(*candidates)
		if err != nil {
			return fail(err)
		}
		rows, err := compare(cs, simulate)
		if err != nil {
			return fail(err)
		}
		title := fmt.Sprintf("Stack %s, %s, cold builds +%d s", *stack, traceName, *coldPenalty)
		fmt.Fprintf(stdout, "%s: %d jobs; waits in seconds; ratio to %q's cost\n\n", title, len(jobs), rows[0].Name)
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
	res, err := simulate(nil)
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
	fmt.Fprintf(stdout, "Fleet of stack %q over %d jobs (%s):\n\n", *stack, len(jobs), traceName)
	fmt.Fprintf(stdout, "%-28s %-10s %12s %8s\n", "stack", "queue", "USD/month", "killed")
	for _, s := range res.Stacks {
		fmt.Fprintf(stdout, "%-28s %-10s %12.2f %8d\n", s.Name, s.Queue, s.MonthlyCostUSD, s.KilledJobs)
	}
	fmt.Fprintf(stdout, "%-28s %-10s %12.2f\n\n", "total", "", res.TotalMonthlyCostUSD)
	fmt.Fprintf(stdout, "%-10s %10s %12s %12s %14s %8s %10s\n", "queue", "warm", "mean wait s", "p95 wait s", "p95 work s", "killed", "unserved")
	for _, q := range res.Queues {
		fmt.Fprintf(stdout, "%-10s %10.2f %12.1f %12.1f %14.1f %8d %10d\n", q.Queue, q.WarmBuildShare, q.MeanWaitSeconds, q.P95WaitSeconds, q.WorkingHours.P95WaitSeconds, q.KilledJobs, q.UnservedJobs)
	}
	return 0
}
