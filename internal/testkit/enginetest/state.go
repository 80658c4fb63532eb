package enginetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"

	"mtrlz.dev/ci-infra/internal/plan"
)

// Resource is one resource of a stack's state as `pulumi stack export`
// writes it, its inputs in the plan's plain form (secrets as "[secret]").
type Resource struct {
	URN     string
	Type    string
	ID      string
	Parent  string
	Protect bool
	Inputs  any
}

// Export reads the stack's state, leaving out what the engine registers by
// itself: the stack resource and the default providers (pulumi:providers:*).
func (p *Project) Export(t testing.TB, stack string) []Resource {
	t.Helper()
	return ReadExport(t, []byte(p.MustPulumi(t, "stack", "export", "--stack", stack)))
}

// ReadExport is Export of the output of `pulumi stack export`.
func ReadExport(t testing.TB, out []byte) []Resource {
	t.Helper()
	var doc struct {
		Deployment struct {
			Resources []struct {
				URN     string         `json:"urn"`
				Type    string         `json:"type"`
				ID      string         `json:"id"`
				Parent  string         `json:"parent"`
				Protect bool           `json:"protect"`
				Inputs  map[string]any `json:"inputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("pulumi stack export: %v", err)
	}
	var rs []Resource
	for _, r := range doc.Deployment.Resources {
		if strings.HasPrefix(r.Type, "pulumi:providers:") || r.Type == "pulumi:pulumi:Stack" {
			continue
		}
		rs = append(rs, Resource{URN: r.URN, Type: r.Type, ID: r.ID, Parent: r.Parent, Protect: r.Protect, Inputs: redact(r.Inputs)})
	}
	return rs
}

// FromPlan gives the plan's resources in the same form.
func FromPlan(p *plan.Plan) []Resource {
	var rs []Resource
	for _, r := range p.Registered() {
		if strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue // as Export: the engine's own
		}
		inputs := map[string]any{}
		for k, v := range r.Inputs {
			inputs[string(k)] = plan.Plain(v, true)
		}
		rs = append(rs, Resource{URN: r.URN, Type: r.Type, ID: r.ImportID, Parent: r.Parent, Protect: r.Protect, Inputs: redact(inputs)})
	}
	return rs
}

// redact replaces secrets by "[secret]" and normalises numbers, so that
// exported state and the plan compare equal.
func redact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v[sig.Key] == sig.Secret { // how exported state marks a secret
			return "[secret]"
		}
		out := map[string]any{}
		for k, e := range v {
			out[k] = redact(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redact(e)
		}
		return out
	case int:
		return float64(v)
	}
	return v
}

func newString(s string) resource.PropertyValue { return resource.NewStringProperty(s) }

func newObject(m resource.PropertyMap) resource.PropertyValue { return resource.NewObjectProperty(m) }
