// Package plan owns the offline plan: it runs the real Pulumi program under
// the SDK's mocks, with no CLI, cloud account or provider, and records every
// resource the program would register, with its inputs, parent and options,
// and the stack outputs. The plan command, the golden file and every
// component test read the program through it.
package plan

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// Program is a Pulumi program that returns its stack outputs instead of
// exporting them, so that the plan can read them back.
type Program func(ctx *pulumi.Context) (pulumi.Map, error)

// Resource is one registered resource as the engine would see it.
type Resource struct {
	URN      string
	Type     string
	Name     string
	Parent   string // URN of the parent; the stack's own URN for top-level resources
	Protect  bool
	Custom   bool   // false for components
	ImportID string // set when the resource is adopted with pulumi.Import
	Inputs   resource.PropertyMap
	// Dependencies and PropertyDependencies are the URNs the resource depends
	// on, as the engine (and a policy pack) sees them.
	Dependencies         []string
	PropertyDependencies map[string][]string
}

// Output is one resolved stack output.
type Output struct {
	Value  any
	Secret bool
	Known  bool
}

// Plan is everything a program would do to a stack.
type Plan struct {
	Project   string
	Stack     string
	Resources []Resource // sorted by URN
	Outputs   map[string]Output
	// Placeholders lists the secret config keys that had no usable value and
	// were given a placeholder.
	Placeholders []string
}

// Options says which stack to plan and with which config.
type Options struct {
	Project string
	Stack   string
	// Config holds fully qualified keys ("ci-infra:bucketSuffix",
	// "aws:region") and their values as the CLI passes them (JSON for arrays).
	Config map[string]string
	// Secrets lists the keys of Config that are secret.
	Secrets []string
	// Placeholders lists the secret keys whose value is a placeholder.
	Placeholders []string
	// References are the outputs of the stacks the program reads through
	// a StackReference, by fully qualified stack name
	// ("organization/ci-infra/prod").
	References map[string]map[string]any
}

// Run runs program under mocks and returns what it would register. An error
// from the program (a config error, say) is returned as is, together with
// the plan of whatever was registered before it, so that a caller can check
// that a bad input touched nothing.
func Run(program Program, opts Options) (*Plan, error) {
	region := opts.Config["aws:region"]
	if region == "" {
		region = "us-east-1"
	}
	mocks := &Mocks{Project: opts.Project, Stack: opts.Stack, Region: region, Account: PlaceholderAccount, References: opts.References}
	p := &Plan{
		Project:      opts.Project,
		Stack:        opts.Stack,
		Outputs:      map[string]Output{},
		Placeholders: append([]string(nil), opts.Placeholders...),
	}
	var mu sync.Mutex
	body := func(ctx *pulumi.Context) error {
		outputs, err := program(ctx)
		if err != nil {
			return err
		}
		for name, value := range outputs {
			ctx.Export(name, value)
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), pulumi.ToOutput(value))
			if err != nil {
				return fmt.Errorf("output %s: %w", name, err)
			}
			mu.Lock()
			p.Outputs[name] = Output{Value: res.Value, Secret: res.Secret, Known: res.Known}
			mu.Unlock()
		}
		return nil
	}
	config := func(info *pulumi.RunInfo) {
		info.Config = opts.Config
		info.ConfigSecretKeys = opts.Secrets
	}
	err := pulumi.RunErr(body, pulumi.WithMocks(opts.Project, opts.Stack, mocks), config)
	p.Resources = mocks.resources()
	sort.Slice(p.Resources, func(i, j int) bool { return p.Resources[i].URN < p.Resources[j].URN })
	return p, err
}

// Registered returns the resources other than the stack itself.
func (p *Plan) Registered() []Resource {
	var rs []Resource
	for _, r := range p.Resources {
		if r.Type != resource.RootStackType.String() {
			rs = append(rs, r)
		}
	}
	return rs
}

// Find returns the resources of the given type token whose logical name is
// name, or all of that type when name is empty.
func (p *Plan) Find(typ, name string) []Resource {
	var found []Resource
	for _, r := range p.Resources {
		if r.Type == typ && (name == "" || r.Name == name) {
			found = append(found, r)
		}
	}
	return found
}

// Get returns the one resource of the given type and name.
func (p *Plan) Get(typ, name string) (Resource, error) {
	found := p.Find(typ, name)
	if len(found) != 1 {
		return Resource{}, fmt.Errorf("plan has %d resources of type %s named %q, want 1", len(found), typ, name)
	}
	return found[0], nil
}

// ByURN returns the resource with the given URN.
func (p *Plan) ByURN(urn string) (Resource, bool) {
	for _, r := range p.Resources {
		if r.URN == urn {
			return r, true
		}
	}
	return Resource{}, false
}

// Input returns the plain value of a resource input, following dotted
// paths into objects ("versioningConfiguration.status"). Secrets are
// unwrapped; use IsSecret to ask whether an input is one.
func (r Resource) Input(path string) any {
	v := resource.NewObjectProperty(r.Inputs)
	for _, part := range strings.Split(path, ".") {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsObject() {
			return nil
		}
		next, ok := v.ObjectValue()[resource.PropertyKey(part)]
		if !ok {
			return nil
		}
		v = next
	}
	return Plain(v, false)
}

// IsSecret reports whether the top-level input key holds a secret.
func (r Resource) IsSecret(key string) bool {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	return ok && v.ContainsSecrets()
}

// Plain converts a property value to plain Go values. With redact, secrets
// become "[secret]"; unknown values are "[unknown]".
func Plain(v resource.PropertyValue, redact bool) any {
	switch {
	case v.IsSecret():
		if redact {
			return "[secret]"
		}
		return Plain(v.SecretValue().Element, redact)
	case v.IsComputed(), v.IsOutput() && !v.OutputValue().Known:
		return "[unknown]"
	case v.IsOutput():
		if v.OutputValue().Secret && redact {
			return "[secret]"
		}
		return Plain(v.OutputValue().Element, redact)
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, Plain(e, redact))
		}
		return out
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = Plain(e, redact)
		}
		return out
	case v.IsAsset():
		a := v.AssetValue()
		if a.IsText() {
			return a.Text
		}
		return a.URI + a.Path
	case v.IsArchive():
		return "[archive]"
	case v.IsResourceReference():
		return v.ResourceReferenceValue().URN
	}
	return fmt.Sprint(v.V)
}
