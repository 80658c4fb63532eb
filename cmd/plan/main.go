// Command plan shows, with no Pulumi CLI and no cloud account, every
// resource a stack would have: it runs the real program under Pulumi's mocks
// with the stack's config (Pulumi.yaml defaults applied, as the CLI would),
// checks the result against the policy pack, and estimates what the agents
// cost. It prints a tree, or with -json one JSON document.
//
//	go run ./cmd/plan -stack prod
//	go run ./cmd/plan -stack prod -json
//
// It exits with status 1 on invalid config (naming each key, before
// anything is planned) and on any mandatory policy violation.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"mtrlz.dev/ci-infra/internal/cost"
	"mtrlz.dev/ci-infra/internal/fleet"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/policies"
	"mtrlz.dev/ci-infra/stacks"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// document is the JSON form: the plan, the policy violations and the cost.
type document struct {
	plan.Document
	Policies []policies.Violation `json:"policies"`
	Cost     *cost.Report         `json:"cost"`
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "prod", "stack to plan: reads Pulumi.<stack>.yaml")
	asJSON := flags.Bool("json", false, "print one JSON document instead of a tree")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "plan: stack %s: %v\n", *stack, err)
		return 1
	}

	opts, err := plan.LoadOptions(*dir, *stack)
	if err != nil {
		return fail(err)
	}
	p, err := plan.Run(stacks.Checked(slices.Collect(maps.Keys(opts.Config))), opts)
	if err != nil {
		// The SDK wraps program errors; a config error reads best alone.
		var cerr *stacks.ConfigError
		if errors.As(err, &cerr) {
			err = cerr
		}
		return fail(err)
	}

	ctx := context.Background()
	pack, err := policies.Load(ctx)
	if err != nil {
		return fail(err)
	}
	violations, err := pack.Evaluate(ctx, policies.Inputs(p))
	if err != nil {
		return fail(err)
	}
	agentStacks, err := fleet.StacksOf(p, opts.Config["ci-infra:elasticStackVersion"], nil)
	if err != nil {
		return fail(err)
	}
	sizes := make([]cost.Stack, len(agentStacks))
	for i, s := range agentStacks {
		sizes[i] = s.Stack
	}
	report, err := cost.Estimate(opts.Config["aws:region"], sizes)
	if err != nil {
		return fail(err)
	}

	if *asJSON {
		if violations == nil {
			violations = []policies.Violation{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(document{Document: p.Document(), Policies: violations, Cost: report})
	} else {
		err = writeText(stdout, p, pack, violations, report)
	}
	if err != nil {
		return fail(err)
	}
	if n := len(policies.MandatoryOf(violations)); n > 0 {
		fmt.Fprintf(stderr, "plan: stack %s: %d mandatory policy violations\n", *stack, n)
		return 1
	}
	return 0
}

func writeText(w io.Writer, p *plan.Plan, pack *policies.Pack, violations []policies.Violation, report *cost.Report) error {
	if err := p.WriteText(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nPolicy pack %s: %d rules, %d mandatory violations, %d advisory\n",
		pack.Name, len(pack.Rules), len(policies.MandatoryOf(violations)), len(violations)-len(policies.MandatoryOf(violations)))
	for _, v := range violations {
		where := v.URN
		if where == "" {
			where = "stack"
		}
		fmt.Fprintf(w, "    [%s] %s: %s\n        at %s\n", v.Level, v.Rule, v.Message, where)
	}
	fmt.Fprintln(w)
	return report.WriteText(w)
}
