// Command plan shows, with no Pulumi CLI and no cloud account, every
// resource a stack would have: it runs the real program under Pulumi's mocks
// with the stack's config (Pulumi.yaml defaults applied, as the CLI would),
// checks the result against the policy pack, and estimates what the agents
// cost. It prints a tree, or with -json one JSON document. A stack that
// keeps no secret (ci-infra:separateSecrets) is planned with the
// ci-infra-secrets stack of the same name (secrets/), which writes them:
// the two together are what the account holds.
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
	"path/filepath"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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
	// SecretsStack is the ci-infra-secrets stack's plan, with a placeholder
	// for every secret.
	SecretsStack *plan.Document       `json:"secretsStack,omitempty"`
	Policies     []policies.Violation `json:"policies"`
	Cost         *cost.Report         `json:"cost"`
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "prod", "stack to plan: reads Pulumi.<stack>.yaml")
	asJSON := flags.Bool("json", false, "print one JSON document instead of a tree")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	listSecrets := flags.Bool("secrets", false, "print the stack's table of secrets (key, needed, owner, source) as JSON, for the scripts, and nothing else")
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
	if *listSecrets {
		// The one table of secrets (stacks/secrettable.go), for this
		// stack's config: scripts/dr-rebuild and split-secrets read it
		// instead of keeping lists of their own.
		var table []stacks.SecretInfo
		_, err := plan.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
			cfg, err := stacks.LoadConfig(ctx, nil)
			if err == nil {
				table = cfg.Secrets()
			}
			return nil, err
		}, opts)
		if err != nil {
			return fail(err)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(table); err != nil {
			return fail(err)
		}
		return 0
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

	secretsPlan, err := planSecrets(*dir, opts, p)
	if err != nil {
		return fail(err)
	}
	inputs := policies.Inputs(p)
	if secretsPlan != nil {
		inputs = append(inputs, policies.Inputs(secretsPlan)...)
	}

	ctx := context.Background()
	pack, err := policies.Load(ctx)
	if err != nil {
		return fail(err)
	}
	violations, err := pack.Evaluate(ctx, inputs)
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
		doc := document{Document: p.Document(), Policies: violations, Cost: report}
		if secretsPlan != nil {
			d := secretsPlan.Document()
			doc.SecretsStack = &d
		}
		err = enc.Encode(doc)
	} else {
		err = writeText(stdout, p, secretsPlan, pack, violations, report)
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

// planSecrets plans the ci-infra-secrets stack of the main plan's name
// from dir/secrets, reading the main plan's outputs as its StackReference
// would; nil when the main stack keeps its own secrets.
func planSecrets(dir string, main plan.Options, p *plan.Plan) (*plan.Plan, error) {
	if main.Config[main.Project+":"+plan.SeparateSecretsKey] != "true" {
		return nil, nil
	}
	opts, err := plan.LoadOptions(filepath.Join(dir, "secrets"), main.Stack)
	if err != nil {
		return nil, fmt.Errorf("the secrets stack: %w", err)
	}
	outputs := map[string]any{}
	for name, out := range p.Outputs {
		outputs[name] = out.Value
	}
	opts.References = map[string]map[string]any{"organization/" + main.Project + "/" + main.Stack: outputs}
	// Where it may write is its own config's to say; a secrets stack not
	// yet pinned is planned as the operator will pin it, from this plan.
	pins, err := stacks.SecretsPins(outputs["secretsNeeded"])
	if err != nil {
		return nil, fmt.Errorf("the secrets stack: %w", err)
	}
	for k, v := range pins {
		if v0 := opts.Config[opts.Project+":"+k]; v0 == "" || v0 == "[]" {
			opts.Config[opts.Project+":"+k] = v
		}
	}
	sp, err := plan.Run(stacks.BuildSecrets, opts)
	if err != nil {
		return nil, fmt.Errorf("the secrets stack: %w", err)
	}
	return sp, nil
}

func writeText(w io.Writer, p, secretsPlan *plan.Plan, pack *policies.Pack, violations []policies.Violation, report *cost.Report) error {
	if err := p.WriteText(w); err != nil {
		return err
	}
	if secretsPlan != nil {
		fmt.Fprintf(w, "\nIts secrets, written by the stack of the same name of %s (secrets/), which only operators and the deploy run:\n", secretsPlan.Project)
		if err := secretsPlan.WriteText(w); err != nil {
			return err
		}
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
