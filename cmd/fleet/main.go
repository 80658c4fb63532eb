// Command fleet replays a job trace against a stack's agent stacks, as its
// plan declares them, with the scaling rules of the pinned Elastic CI Stack
// and agent-scaler (internal/fleet), and reports per stack the monthly cost
// and the jobs killed, and per queue the waits, the jobs killed and the
// share of jobs that ran on a warm instance.
//
//	go run ./cmd/fleet -stack prod
//	go run ./cmd/fleet -stack prod -json
//	go run ./cmd/fleet -stack prod -set buildkite-builders.MinSize=0 -trace my-trace.csv
//
// Without -trace it replays the sample trace (internal/fleet/sample-trace.csv).
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
	tracePath := flags.String("trace", "", "CSV trace start_seconds,queue,duration_seconds (default: the sample trace)")
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
	agentStacks, err := fleet.StacksOf(p, version, overrides)
	if err != nil {
		return fail(err)
	}
	text := fleet.SampleCSV
	if *tracePath != "" {
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
	res, err := fleet.Simulate(agentStacks, jobs, fleet.DefaultOptions(price, cost.SpotPriceRatio))
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
	fmt.Fprintf(stdout, "Fleet of stack %q over %d jobs (%s):\n\n", *stack, len(jobs), map[bool]string{true: "the sample trace", false: *tracePath}[*tracePath == ""])
	fmt.Fprintf(stdout, "%-28s %-10s %12s %8s\n", "stack", "queue", "USD/month", "killed")
	for _, s := range res.Stacks {
		fmt.Fprintf(stdout, "%-28s %-10s %12.2f %8d\n", s.Name, s.Queue, s.MonthlyCostUSD, s.KilledJobs)
	}
	fmt.Fprintf(stdout, "%-28s %-10s %12.2f\n\n", "total", "", res.TotalMonthlyCostUSD)
	fmt.Fprintf(stdout, "%-10s %10s %12s %12s %8s\n", "queue", "warm", "mean wait s", "p95 wait s", "killed")
	for _, q := range res.Queues {
		fmt.Fprintf(stdout, "%-10s %10.2f %12.1f %12.1f %8d\n", q.Queue, q.WarmBuildShare, q.MeanWaitSeconds, q.P95WaitSeconds, q.KilledJobs)
	}
	return 0
}
