package policies

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mtrlz.dev/ci-infra/internal/plan"
)

// Input is one resource as Pulumi's analyzer hands it to an OPA rule:
// __type, __name, __urn, __options, __provider and __properties, with the
// properties also copied to the top level; and, for stack rules,
// dependencies and propertyDependencies.
type Input map[string]any

// URN is the resource's URN.
func (in Input) URN() string {
	s, _ := in["__urn"].(string)
	return s
}

// Resource is what the analyzer is told of one resource.
type Resource struct {
	URN, Type, Name, Parent string
	Protect                 bool
	Properties              resource.PropertyMap
	// Dependencies and PropertyDependencies are given to stack rules only.
	Dependencies         []string
	PropertyDependencies map[string][]string
}

// NewInput shapes one resource as the analyzer does. Secrets are wrapped
// as {"Element": {"V": value}} and unknown values as {"Element": {"V": ""}},
// as the analyzer receives them during preview.
func NewInput(r Resource) Input {
	props, _ := analyzerValue(resource.NewObjectProperty(r.Properties)).(map[string]any)
	in := Input{}
	for k, v := range props {
		in[k] = v
	}
	deps := map[string]any{}
	for k, urns := range r.PropertyDependencies {
		list := make([]any, len(urns))
		for i, u := range urns {
			list[i] = u
		}
		deps[k] = list
	}
	dependencies := make([]any, len(r.Dependencies))
	for i, d := range r.Dependencies {
		dependencies[i] = d
	}
	in["__type"] = r.Type
	in["__name"] = r.Name
	in["__urn"] = r.URN
	in["__provider"] = ""
	in["__options"] = map[string]any{"protect": r.Protect, "parent": r.Parent}
	in["__properties"] = props
	in["dependencies"] = dependencies
	in["propertyDependencies"] = deps
	return in
}

// Inputs shapes the resources of a plan as the analyzer does.
func Inputs(p *plan.Plan) []Input {
	var out []Input
	for _, r := range p.Registered() {
		out = append(out, NewInput(Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Protect: r.Protect,
			Properties: r.Inputs, Dependencies: r.Dependencies, PropertyDependencies: r.PropertyDependencies,
		}))
	}
	return out
}

func analyzerValue(v resource.PropertyValue) any {
	wrap := func(x any) any { return map[string]any{"Element": map[string]any{"V": x}} }
	switch {
	case v.IsSecret():
		return wrap(analyzerValue(v.SecretValue().Element))
	case v.IsComputed(), v.IsOutput() && !v.OutputValue().Known:
		return wrap("")
	case v.IsOutput():
		if v.OutputValue().Secret {
			return wrap(analyzerValue(v.OutputValue().Element))
		}
		return analyzerValue(v.OutputValue().Element)
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, analyzerValue(e))
		}
		return out
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = analyzerValue(e)
		}
		return out
	}
	return plan.Plain(v, false)
}
