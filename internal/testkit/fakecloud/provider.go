package fakecloud

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
)

// Provider serves one package ("aws" or "github") of the fake cloud to the
// Pulumi engine. Its configuration (region, GitHub owner) arrives through
// Configure, as the real providers' does; the account comes from the
// process's environment, as credentials would.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	pkg     string
	version string
	store   Store
	place   Place
	moto    *moto // nil unless EnvMoto is set
	// role is EnvRole: the run's credentials are this role's, and each
	// read is checked against its policies with authorize.
	role      string
	authorize Authorizer
}

// NewProvider returns the provider of pkg, acting in account, keeping its
// state in dir.
func NewProvider(pkg, version, dir, account string) *Provider {
	if account == "" {
		account = cloudmodel.DefaultAccount
	}
	return &Provider{pkg: pkg, version: version, store: Store{Dir: dir}, place: Place{Account: account}}
}

// NewProviderFromEnv is NewProvider with the state directory and account
// from EnvDir and EnvAccount.
func NewProviderFromEnv(pkg, version string) (*Provider, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return nil, fmt.Errorf("fakecloud: %s is not set: the fake cloud needs a state directory", EnvDir)
	}
	p := NewProvider(pkg, version, dir, os.Getenv(EnvAccount))
	p.moto = newMoto(os.Getenv(EnvMoto))
	p.role = os.Getenv(EnvRole)
	return p, nil
}

var _ pulumirpc.ResourceProviderServer = (*Provider)(nil)

func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.version}, nil
}

func (p *Provider) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, p.pkg, p.version)}, nil
}

func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *Provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure takes the region (aws) or the organisation (github), from the
// provider's arguments or from the stack config (aws:region, github:owner).
func (p *Provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	key := map[string]string{"aws": "region", "github": "owner"}[p.pkg]
	value := req.GetVariables()[p.pkg+":config:"+key]
	if args := req.GetArgs().GetFields(); args[key] != nil && args[key].GetStringValue() != "" {
		value = args[key].GetStringValue()
	}
	switch p.pkg {
	case "aws":
		if value == "" {
			return nil, status.Error(codes.InvalidArgument, "fakecloud aws: no region; set aws:region")
		}
		p.place.Region = value
	case "github":
		p.place.Org = value
		p.place.Account = "" // GitHub is outside the AWS account
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// Diff compares the old inputs with the new ones. A change to a property
// the real provider cannot update in place (a name, the bucket of an
// object, the VPC of a subnet) replaces the resource.
func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	oldRaw := req.GetOldInputs()
	if oldRaw == nil {
		oldRaw = req.GetOlds()
	}
	olds, err := unmarshal(oldRaw)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var diffs, replaces []string
	for _, k := range changedKeys(olds, news) {
		if slices.Contains(req.GetIgnoreChanges(), k) {
			continue
		}
		diffs = append(diffs, k)
		if forcesReplacement(req.GetType(), req.GetUrn(), k) {
			replaces = append(replaces, k)
		}
	}
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{Changes: changes, Diffs: diffs, Replaces: replaces}, nil
}

func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	typ, urn := urnType(req.GetUrn()), req.GetUrn()
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	r, err := NewRecord(typ, urn, "", p.place, inputs)
	if err != nil {
		return nil, err
	}
	if !req.GetPreview() {
		if err := p.store.update(func(st *state) error {
			if err := st.admit(r); err != nil {
				return status.Error(codes.AlreadyExists, err.Error())
			}
			// What awscli reads afterwards exists in moto too, under the
			// ID moto gives it (a zone's).
			switch id, err := p.moto.mirror(typ, inputs, p.place); {
			case err != nil:
				return err
			case id != "":
				if r, err = NewRecord(typ, urn, id, p.place, inputs); err != nil {
					return err
				}
			}
			st.Resources = append(st.Resources, r)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	props, err := marshal(liveState(typ, urn, r.ID, p.place, inputs))
	return &pulumirpc.CreateResponse{Id: r.ID, Properties: props}, err
}

// Read returns what exists under the ID: for a refresh, and for an import,
// whose inputs Pulumi compares with the program's. A missing resource reads
// as an empty ID, which the engine takes as "gone".
func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	typ := urnType(req.GetUrn())
	r, ok, err := p.store.Find(typ, req.GetId(), p.place)
	if err == nil && !ok {
		r, ok, err = p.findByImportID(typ, req.GetId())
	}
	if err != nil || !ok {
		return &pulumirpc.ReadResponse{}, err
	}
	if err := p.authorizeRead(r); err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	props, err := outputs(r)
	if err != nil {
		return nil, err
	}
	inputs, err := r.InputMap()
	if err != nil {
		return nil, err
	}
	in, err := marshal(inputs)
	return &pulumirpc.ReadResponse{Id: r.ID, Properties: props, Inputs: in}, err
}

// findByImportID finds a resource by the other ID its provider imports it
// by: a team by its slug, a branch protection rule (whose ID is a node ID)
// by <repository>:<pattern>, an S3 object (whose ID is its key) by
// <bucket>/<key> (pulumi-aws BucketObjectv2, "Import").
func (p *Provider) findByImportID(typ, id string) (Record, bool, error) {
	var match func(resource.PropertyMap) bool
	switch typ {
	case "github:index/team:Team":
		match = func(in resource.PropertyMap) bool { return strings.EqualFold(cloudmodel.StringInput(in, "name"), id) }
	case "github:index/branchProtection:BranchProtection":
		match = func(in resource.PropertyMap) bool {
			return cloudmodel.StringInput(in, "repositoryId")+":"+cloudmodel.StringInput(in, "pattern") == id
		}
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		match = func(in resource.PropertyMap) bool {
			return cloudmodel.StringInput(in, "bucket")+"/"+cloudmodel.StringInput(in, "key") == id
		}
	default:
		return Record{}, false, nil
	}
	all, err := p.store.Resources()
	if err != nil {
		return Record{}, false, err
	}
	for _, r := range all {
		if r.Type != typ || r.Place != p.place {
			continue
		}
		if inputs, err := r.InputMap(); err == nil && match(inputs) {
			return r, true, nil
		}
	}
	return Record{}, false, nil
}

func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	typ, urn := urnType(req.GetUrn()), req.GetUrn()
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var r Record
	err = p.store.update(func(st *state) error {
		i := st.index(typ, req.GetId(), p.place)
		if i < 0 {
			return status.Errorf(codes.NotFound, "%s %s does not exist", typ, req.GetId())
		}
		if st.Resources[i].URN != "" {
			urn = st.Resources[i].URN // outputs derive from the URN it was created under
		}
		if r, err = NewRecord(typ, urn, req.GetId(), p.place, news); err != nil {
			return err
		}
		if !req.GetPreview() {
			if typ == "aws:s3/bucketObjectv2:BucketObjectv2" {
				if _, err := p.moto.mirror(typ, news, p.place); err != nil {
					return err
				}
			}
			st.Resources[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	props, err := marshal(liveState(typ, urn, req.GetId(), p.place, news))
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func (p *Provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	typ := urnType(req.GetUrn())
	err := p.store.update(func(st *state) error {
		if i := st.index(typ, req.GetId(), p.place); i >= 0 {
			st.Resources = slices.Delete(st.Resources, i, i+1)
		}
		return nil
	})
	return &emptypb.Empty{}, err
}

// Invoke answers the provider functions the program calls (invoke.go) from
// the account's resources; any other fails loudly rather than answering
// with something invented.
func (p *Provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	find := func(typ string, match func(resource.PropertyMap) bool) (resource.PropertyMap, bool, error) {
		all, err := p.store.Resources()
		if err != nil {
			return nil, false, err
		}
		for _, r := range all {
			if r.Type != typ || r.Place.Account != p.place.Account {
				continue
			}
			inputs, err := r.InputMap()
			if err != nil {
				return nil, false, err
			}
			if match(inputs) {
				state, err := r.OutputMap()
				return state, err == nil, err
			}
		}
		return nil, false, nil
	}
	result, err := cloudmodel.Invoke(req.GetTok(), args, p.place, find)
	if err != nil {
		return &pulumirpc.InvokeResponse{Failures: []*pulumirpc.CheckFailure{{Reason: err.Error()}}}, nil
	}
	ret, err := marshal(result)
	return &pulumirpc.InvokeResponse{Return: ret}, err
}

// replacedBy lists the inputs whose change replaces a resource, as the real
// providers mark them ForceNew. Names, and what a resource belongs to.
var replacedBy = []string{
	"bucket", "key", "name", "path", "url", "role", "policyArn", "cidrBlock", "vpcId",
	"availabilityZone", "serviceName", "subnetId", "routeTableId", "teamId", "repository", "repositoryId",
}

func forcesReplacement(typ, urn, key string) bool {
	if typ == "" {
		typ = urnType(urn)
	}
	if typ == "github:index/team:Team" && key == "name" {
		return false // GitHub renames a team in place
	}
	return slices.Contains(replacedBy, key)
}

// changedKeys lists the top-level keys whose values differ, secrets compared
// by their plain values.
func changedKeys(olds, news resource.PropertyMap) []string {
	keys := map[string]bool{}
	for k := range olds {
		keys[string(k)] = true
	}
	for k := range news {
		keys[string(k)] = true
	}
	var changed []string
	for k := range keys {
		o, n := olds[resource.PropertyKey(k)], news[resource.PropertyKey(k)]
		if !o.DeepEquals(n) {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return changed
}

// urnType returns the type of a URN.
func urnType(urn string) string {
	if u := resource.URN(urn); u.IsValid() {
		return string(u.Type())
	}
	return ""
}

// liveState is what a provider returns from create and update, unknown
// inputs (in a preview) kept unknown.
func liveState(typ, urn, id string, at Place, inputs resource.PropertyMap) resource.PropertyMap {
	_, computed := cloudmodel.Attributes(typ, urn, inputs, at, id)
	return cloudmodel.State(inputs, computed)
}

func outputs(r Record) (*structpb.Struct, error) {
	props, err := r.OutputMap()
	if err != nil {
		return nil, err
	}
	return marshal(props)
}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true, SkipNulls: true})
}

func marshal(props resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(props, plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true, SkipNulls: true})
}

// packageName returns the package a plugin binary serves, from its name:
// pulumi-resource-aws serves "aws".
func PackageName(binary string) string {
	return strings.TrimPrefix(binary, "pulumi-resource-")
}
