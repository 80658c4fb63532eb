package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"mtrlz.dev/ci-infra/internal/testkit/testplugins"
	"mtrlz.dev/ci-infra/policies"
)

// serveAnalyzer serves the pack in dir (the CLI's working copy of
// policies/) as an analyzer: what the official plugin's RunPlugin starts.
func serveAnalyzer() {
	pack, err := policies.Load(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "opa stand-in: %v\n", err)
		os.Exit(1)
	}
	testplugins.Serve("opa stand-in analyzer", func(srv *grpc.Server) { pulumirpc.RegisterAnalyzerServer(srv, &analyzer{pack: pack}) })
}

type analyzer struct {
	pulumirpc.UnimplementedAnalyzerServer
	pack *policies.Pack
}

func (a *analyzer) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (a *analyzer) GetAnalyzerInfo(context.Context, *emptypb.Empty) (*pulumirpc.AnalyzerInfo, error) {
	info := &pulumirpc.AnalyzerInfo{Name: a.pack.Name, DisplayName: a.pack.Name, Version: "0.0.1"}
	for _, rule := range a.pack.Rules {
		info.Policies = append(info.Policies, &pulumirpc.PolicyInfo{Name: rule, EnforcementLevel: enforcement(rule)})
	}
	return info, nil
}

func (a *analyzer) Configure(context.Context, *pulumirpc.ConfigureAnalyzerRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (a *analyzer) ConfigureStack(context.Context, *pulumirpc.AnalyzerStackConfigureRequest) (*pulumirpc.AnalyzerStackConfigureResponse, error) {
	return &pulumirpc.AnalyzerStackConfigureResponse{}, nil
}

func (a *analyzer) Analyze(ctx context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.AnalyzeResponse, error) {
	in, err := input(req.GetUrn(), req.GetType(), req.GetName(), req.GetProperties(), req.GetOptions(), nil, nil)
	if err != nil {
		return nil, err
	}
	vs, err := a.pack.EvaluateResource(ctx, in)
	if err != nil {
		return nil, err
	}
	return a.response(vs), nil
}

func (a *analyzer) AnalyzeStack(ctx context.Context, req *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	var ins []policies.Input
	for _, r := range req.GetResources() {
		deps := map[string][]string{}
		for k, d := range r.GetPropertyDependencies() {
			deps[k] = d.GetUrns()
		}
		in, err := input(r.GetUrn(), r.GetType(), r.GetName(), r.GetProperties(), r.GetOptions(), r.GetDependencies(), deps)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	vs, err := a.pack.EvaluateStack(ctx, ins)
	if err != nil {
		return nil, err
	}
	return a.response(vs), nil
}

func input(urn, typ, name string, props *structpb.Struct, opts *pulumirpc.AnalyzerResourceOptions,
	deps []string, propDeps map[string][]string) (policies.Input, error) {
	properties, err := plugin.UnmarshalProperties(props, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		return nil, err
	}
	if properties == nil {
		properties = resource.PropertyMap{}
	}
	return policies.NewInput(policies.Resource{
		URN: urn, Type: typ, Name: name, Parent: opts.GetParent(), Protect: opts.GetProtect(),
		Properties: properties, Dependencies: deps, PropertyDependencies: propDeps,
	}), nil
}

func (a *analyzer) response(vs []policies.Violation) *pulumirpc.AnalyzeResponse {
	resp := &pulumirpc.AnalyzeResponse{}
	for _, v := range vs {
		resp.Diagnostics = append(resp.Diagnostics, &pulumirpc.AnalyzeDiagnostic{
			PolicyName:        v.Rule,
			PolicyPackName:    a.pack.Name,
			PolicyPackVersion: "0.0.1",
			Message:           v.Message,
			EnforcementLevel:  enforcement(v.Rule),
			Urn:               v.URN,
		})
	}
	return resp
}

func enforcement(rule string) pulumirpc.EnforcementLevel {
	if policies.LevelOf(rule) == policies.Advisory {
		return pulumirpc.EnforcementLevel_ADVISORY
	}
	return pulumirpc.EnforcementLevel_MANDATORY
}
