// Package policies owns the policy pack every stack must pass: the Rego rules
// in this folder (run by `pulumi preview --policy-pack policies` where the
// CLI exists) and an offline evaluator that runs the same rules, with the
// analyzer's Rego dialect and rule naming, against the resources of a plan.
package policies

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/internal/cost"
)

//go:embed *.rego
var modules embed.FS

// Levels of a violation, as Pulumi names them.
const (
	Mandatory = "mandatory" // deny_*, violation_*: blocks preview and up
	Advisory  = "advisory"  // warn_*: reported only
)

var (
	resourceRule = regexp.MustCompile(`^(deny|violation|warn)(_\w+)?$`)
	stackRule    = regexp.MustCompile(`^stack_(deny|violation|warn)(_\w+)?$`)
)

// Violation is one message of one rule.
type Violation struct {
	Rule    string `json:"rule"`
	Level   string `json:"level"`
	URN     string `json:"urn,omitempty"` // empty for stack rules
	Message string `json:"message"`
}

// Pack is the compiled policy pack.
type Pack struct {
	Name  string
	Rules []string // every deny/warn rule, resource and stack
	query rego.PreparedEvalQuery
}

// Load compiles the pack's Rego the way Pulumi's analyzer does: the v0
// parser (the files opt in to the v1 keywords with `import rego.v1`), and
// one package, whose name is the pack's.
func Load(ctx context.Context) (*Pack, error) {
	paths, err := fs.Glob(modules, "*.rego")
	if err != nil {
		return nil, err
	}
	opts := []func(*rego.Rego){rego.SetRegoVersion(ast.RegoV0)}
	pkg := ""
	rules := map[string]bool{}
	for _, path := range paths {
		src, err := modules.ReadFile(path)
		if err != nil {
			return nil, err
		}
		mod, err := ast.ParseModuleWithOpts(path, string(src), ast.ParserOptions{RegoVersion: ast.RegoV0})
		if err != nil {
			return nil, fmt.Errorf("policies: %w", err)
		}
		name := strings.TrimPrefix(mod.Package.Path.String(), "data.")
		if pkg != "" && name != pkg {
			return nil, fmt.Errorf("policies: %s declares package %s, the others %s: a pack has one package", path, name, pkg)
		}
		pkg = name
		for _, r := range mod.Rules {
			n := r.Head.Name.String()
			if n == "" && len(r.Head.Reference) > 0 {
				n = r.Head.Reference[0].String()
			}
			if resourceRule.MatchString(n) || stackRule.MatchString(n) {
				rules[n] = true
			}
		}
		opts = append(opts, rego.Module(path, string(src)))
	}
	p := &Pack{Name: pkg}
	for r := range rules {
		p.Rules = append(p.Rules, r)
	}
	sort.Strings(p.Rules)
	opts = append(opts, rego.Query("data."+pkg))
	p.query, err = rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	return p, nil
}

// Evaluate runs every resource rule against each resource and every stack
// rule against all of them, and returns the violations sorted by rule, URN
// and message.
func (p *Pack) Evaluate(ctx context.Context, resources []Input) ([]Violation, error) {
	var out []Violation
	for _, r := range resources {
		vs, err := p.EvaluateResource(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	vs, err := p.EvaluateStack(ctx, resources)
	if err != nil {
		return nil, err
	}
	out = append(out, vs...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.URN != b.URN {
			return a.URN < b.URN
		}
		return a.Message < b.Message
	})
	return out, nil
}

// EvaluateResource runs the resource rules against one resource, as the
// analyzer does for each resource it is shown.
func (p *Pack) EvaluateResource(ctx context.Context, r Input) ([]Violation, error) {
	return p.eval(ctx, r, r.URN(), resourceRule)
}

// EvaluateStack runs the stack rules once against all the resources.
func (p *Pack) EvaluateStack(ctx context.Context, resources []Input) ([]Violation, error) {
	all := make([]any, len(resources))
	for i, r := range resources {
		all[i] = map[string]any(r)
	}
	return p.eval(ctx, map[string]any{"resources": all}, "", stackRule)
}

func (p *Pack) eval(ctx context.Context, input any, urn string, kind *regexp.Regexp) ([]Violation, error) {
	rs, err := p.query.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	doc, _ := rs[0].Expressions[0].Value.(map[string]any)
	var out []Violation
	for _, rule := range p.Rules {
		if !kind.MatchString(rule) {
			continue
		}
		msgs, _ := doc[rule].([]any)
		for _, m := range msgs {
			out = append(out, Violation{Rule: rule, Level: LevelOf(rule), URN: urn, Message: fmt.Sprint(m)})
		}
	}
	return out, nil
}

// LevelOf is the enforcement level of a rule: advisory for warn rules.
func LevelOf(rule string) string {
	if strings.HasPrefix(strings.TrimPrefix(rule, "stack_"), "warn") {
		return Advisory
	}
	return Mandatory
}

// MandatoryOf returns the violations that block a deployment.
func MandatoryOf(vs []Violation) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Level == Mandatory {
			out = append(out, v)
		}
	}
	return out
}

// GeneratedRego is policies/generated.rego: the facts the rules share
// with the program, from their one table each: the secrets bucket's
// objects that hold credentials (agent.SecretObjectKeys) and the instance
// types the price table knows (internal/cost/prices.csv) and the ceiling
// of an agent stack's size (agentstack.MaxSizeCeiling). A test keeps the
// file in step; `go test ./policies -update` rewrites it.
func GeneratedRego() string {
	set := func(items []string) string {
		quoted := make([]string, len(items))
		for i, it := range items {
			quoted[i] = strconv.Quote(it)
		}
		return "{" + strings.Join(quoted, ", ") + "}"
	}
	types := map[string]bool{}
	for _, region := range cost.Regions() {
		for _, t := range cost.InstanceTypes(region) {
			types[t] = true
		}
	}
	return "# Generated by policies.GeneratedRego from agent/objects.go,\n" +
		"# internal/cost/prices.csv and components/agentstack; run `go test ./policies -update` after changing them.\n" +
		"package ci_infra\n\nimport rego.v1\n\n" +
		"# Objects of the secrets bucket that hold credentials.\n" +
		"secret_object_keys := " + set(agent.SecretObjectKeys()) + "\n\n" +
		"# The instance types an agent stack may use: those with a price.\n" +
		"allowed_instance_types := " + set(slices.Sorted(maps.Keys(types))) + "\n\n" +
		"# The most instances any agent stack may scale to (agentstack.MaxSizeCeiling).\n" +
		"max_size_ceiling := " + strconv.Itoa(agentstack.MaxSizeCeiling) + "\n"
}
