package plan

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
)

// PlaceholderAccount is the AWS account ID the mocks put into ARNs: the fake
// cloud's default, so that a plan and an engine run of the fake cloud agree.
const PlaceholderAccount = cloudmodel.DefaultAccount

// Mocks implements pulumi.MockResourceMonitor. It records every registration
// and answers with the values AWS and GitHub would give (cloudmodel.Attributes):
// a bucket's ID is its name, ARNs are well formed, IDs are stable across runs.
type Mocks struct {
	Project string
	Stack   string
	Region  string
	Account string
	// References are the outputs of the stacks a program reads through a
	// StackReference, by the referenced stack's name.
	References map[string]map[string]any

	mu       sync.Mutex
	recorded []Resource
	// regions of explicit providers, by their reference ("URN::ID"): a
	// resource they manage lives there, not in the stack's region.
	regions map[string]string
}

var _ pulumi.MockResourceMonitor = (*Mocks)(nil)

func (m *Mocks) resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.recorded...)
}

// NewResource records the registration and returns the resource's ID and
// state: its inputs plus the outputs the provider would compute.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := Resource{
		Type:     args.TypeToken,
		Name:     args.Name,
		Custom:   args.Custom,
		ImportID: args.ID,
		Inputs:   args.Inputs,
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.Dependencies = rpc.GetDependencies()
		r.PropertyDependencies = map[string][]string{}
		for k, deps := range rpc.GetPropertyDependencies() {
			r.PropertyDependencies[k] = deps.GetUrns()
		}
	}
	r.URN = m.urn(args.TypeToken, args.Name, r.Parent)
	m.mu.Lock()
	m.recorded = append(m.recorded, r)
	m.mu.Unlock()

	if args.TypeToken == "pulumi:pulumi:StackReference" {
		// Read, not created: the referenced stack's outputs.
		name := args.Inputs["name"].StringValue()
		// As the engine would read them from the stack's state: plain JSON.
		raw, err := json.Marshal(m.References[name])
		if err != nil {
			return "", nil, err
		}
		var outputs map[string]any
		if err := json.Unmarshal(raw, &outputs); err != nil {
			return "", nil, err
		}
		return name, resource.PropertyMap{
			"name":              resource.NewStringProperty(name),
			"outputs":           resource.NewObjectProperty(resource.NewPropertyMapFromMap(outputs)),
			"secretOutputNames": resource.NewArrayProperty(nil),
		}, nil
	}
	if !args.Custom {
		return "", resource.PropertyMap{}, nil
	}
	at := cloudmodel.Place{Account: m.Account, Region: m.Region}
	m.mu.Lock()
	if region, ok := m.regions[args.Provider]; ok {
		at.Region = region
	}
	m.mu.Unlock()
	// An imported resource keeps the ID it was adopted by.
	id, computed := cloudmodel.Attributes(args.TypeToken, r.URN, args.Inputs, at, args.ID)
	if strings.HasPrefix(args.TypeToken, "pulumi:providers:") {
		if region := args.Inputs["region"]; region.IsString() {
			m.mu.Lock()
			if m.regions == nil {
				m.regions = map[string]string{}
			}
			m.regions[r.URN+"::"+id] = region.StringValue()
			m.mu.Unlock()
		}
	}
	return id, cloudmodel.State(args.Inputs, computed), nil
}

// Call answers provider functions (invokes) as the fake cloud does, with
// every resource looked up assumed to exist.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	at := cloudmodel.Place{Account: m.Account, Region: m.Region}
	return cloudmodel.Invoke(args.Token, args.Args, at, cloudmodel.Assume(at))
}

// urn computes the URN the way the engine does: the parent's qualified type
// (except the root stack's) prefixes the resource's own type.
func (m *Mocks) urn(typ, name, parent string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); parent != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.Stack), tokens.PackageName(m.Project), parentType, tokens.Type(typ), name))
}
