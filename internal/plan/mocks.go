package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PlaceholderAccount is the AWS account ID the mocks put into ARNs. It is
// the documentation account, so a plan can never be mistaken for a real one.
const PlaceholderAccount = "123456789012"

// Mocks implements pulumi.MockResourceMonitor. It records every registration
// and answers with the values AWS and GitHub would give: a bucket's ID is its
// name, ARNs are well formed for the region, IDs are stable across runs.
type Mocks struct {
	Project string
	Stack   string
	Region  string
	Account string

	mu       sync.Mutex
	recorded []Resource
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

	if !args.Custom {
		return "", resource.PropertyMap{}, nil
	}
	id, computed := m.computed(args)
	if args.ID != "" {
		id = args.ID // an imported resource keeps the ID it was adopted by
	}
	state := args.Inputs.Copy()
	for k, v := range computed {
		if _, set := state[resource.PropertyKey(k)]; !set || k == "arn" || k == "id" {
			state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	return id, state, nil
}

// Call answers provider functions (invokes). The program uses none today.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("plan: no mock for function %s", args.Token)
}

// computed returns the ID and the provider-computed outputs of a resource.
func (m *Mocks) computed(args pulumi.MockResourceArgs) (string, map[string]any) {
	in := func(key string) string {
		v, ok := args.Inputs[resource.PropertyKey(key)]
		for ok && v.IsSecret() {
			v = v.SecretValue().Element
		}
		if ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	h := stableHash(args.TypeToken, args.Name)
	arn := func(service, region, account, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, resource)
	}
	switch args.TypeToken {
	case "aws:s3/bucketV2:BucketV2":
		name := in("bucket")
		return name, map[string]any{"arn": "arn:aws:s3:::" + name, "bucketRegionalDomainName": name + ".s3." + m.Region + ".amazonaws.com", "region": m.Region}
	case "aws:iam/policy:Policy":
		path := in("path")
		if path == "" {
			path = "/" // IAM's default path
		}
		a := arn("iam", "", m.Account, "policy"+path+in("name"))
		return a, map[string]any{"arn": a, "policyId": "ANPA" + strings.ToUpper(h[:17])}
	case "aws:iam/role:Role":
		a := arn("iam", "", m.Account, "role/"+in("name"))
		return in("name"), map[string]any{"arn": a, "uniqueId": "AROA" + strings.ToUpper(h[:17])}
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		host := strings.TrimPrefix(in("url"), "https://")
		a := arn("iam", "", m.Account, "oidc-provider/"+host)
		return a, map[string]any{"arn": a}
	case "aws:ssm/parameter:Parameter":
		name := in("name")
		return name, map[string]any{"arn": arn("ssm", m.Region, m.Account, "parameter/"+strings.TrimPrefix(name, "/"))}
	case "aws:route53/zone:Zone":
		id := "Z" + strings.ToUpper(h[:20])
		return id, map[string]any{"zoneId": id, "arn": "arn:aws:route53:::hostedzone/" + id, "nameServers": []any{}}
	case "aws:cloudformation/stack:Stack":
		name := in("name")
		return arn("cloudformation", m.Region, m.Account, "stack/"+name+"/"+h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:32]), map[string]any{"outputs": map[string]any{}}
	case "aws:ec2/vpc:Vpc":
		return "vpc-" + h[:17], map[string]any{"arn": arn("ec2", m.Region, m.Account, "vpc/vpc-"+h[:17])}
	case "aws:ec2/subnet:Subnet":
		return "subnet-" + h[:17], map[string]any{"arn": arn("ec2", m.Region, m.Account, "subnet/subnet-"+h[:17])}
	case "aws:ec2/internetGateway:InternetGateway":
		return "igw-" + h[:17], nil
	case "aws:ec2/routeTable:RouteTable":
		return "rtb-" + h[:17], nil
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		return "vpce-" + h[:17], nil
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		return in("key"), map[string]any{"versionId": h[:32]}
	case "github:index/team:Team":
		id := fmt.Sprint(stableNumber(h))
		return id, map[string]any{"slug": in("name"), "nodeId": "T_" + h[:16]}
	}
	return args.Name + "-" + h[:8], nil
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

func stableHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

func stableNumber(h string) uint32 {
	var n uint32
	for _, c := range h[:7] {
		n = n*16 + uint32(strings.IndexRune("0123456789abcdef", c))
	}
	return n
}
