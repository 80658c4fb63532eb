// Command languagego is a test-only Pulumi language host for Go programs,
// installed as pulumi-language-go on the PATH of the engine tests. The real
// pulumi-language-go is not served to these machines; an operator's Pulumi
// install has it, and nothing here replaces it outside tests.
//
// It does what the engine needs of a Go runtime and no more: it reports no
// required plugins (the engine then loads the providers the program
// registers, from the PATH: the fake cloud), and Run builds the program
// directory with `go build` (or, when CI_INFRA_PROGRAM names a binary, runs
// that) with the engine's PULUMI_* environment, as the Go SDK reads it
// (sdk/go/pulumi/run.go, getEnvInfo).
//
// The engine starts it as `pulumi-language-go [flags] ENGINE_ADDRESS`; it
// prints the port it listens on, as every plugin does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"mtrlz.dev/ci-infra/internal/testkit/testplugins"
)

// EnvProgram names the prebuilt program binaries to run instead of
// building the program directory, by project:
// "ci-infra=/bin/a,ci-infra-secrets=/bin/b" (a bare path serves every
// project). The engine tests build them once for many runs.
const EnvProgram = "CI_INFRA_PROGRAM"

// programFor is the prebuilt binary of a project, or "".
func programFor(project string) string {
	value := os.Getenv(EnvProgram)
	if !strings.Contains(value, "=") {
		return value
	}
	for _, entry := range strings.Split(value, ",") {
		if name, path, ok := strings.Cut(entry, "="); ok && name == project {
			return path
		}
	}
	return ""
}

// exitLoggedError is the status a Go program exits with after it reported
// its error to the engine itself (sdk/go/common/constant.ExitStatusLoggedError).
const exitLoggedError = 32

func main() {
	flags := flag.NewFlagSet("pulumi-language-go", flag.ContinueOnError)
	// Flags the engine may pass to the real host; accepted and unused.
	flags.String("tracing", "", "")
	flags.String("binary", "", "")
	flags.String("buildTarget", "", "")
	flags.String("root", "", "")
	if err := flags.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	engine := flags.Arg(0)
	testplugins.Serve("languagego", func(srv *grpc.Server) { pulumirpc.RegisterLanguageRuntimeServer(srv, &host{engine: engine}) })
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "0.0.0-test"}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) InstallDependencies(*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	return nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return &pulumirpc.AboutResponse{Executable: "go"}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// Run builds (or takes) the program and runs it against the engine's
// resource monitor.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	binary := programFor(req.GetProject())
	if binary == "" {
		out, err := os.MkdirTemp("", "testlanghost-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(out)
		binary = filepath.Join(out, "program")
		build := exec.CommandContext(ctx, "go", "build", "-o", binary, ".")
		build.Dir = dir
		if msg, err := build.CombinedOutput(); err != nil {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("go build in %s: %v\n%s", dir, err, msg)}, nil
		}
	}

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, binary, req.GetArgs()...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"PULUMI_PROJECT="+req.GetProject(),
		"PULUMI_STACK="+req.GetStack(),
		"PULUMI_ORGANIZATION="+req.GetOrganization(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PULUMI_DRY_RUN="+strconv.FormatBool(req.GetDryRun()),
		"PULUMI_PARALLEL="+strconv.Itoa(int(req.GetParallel())),
		"PULUMI_MONITOR="+req.GetMonitorAddress(),
		"PULUMI_ENGINE="+h.engine,
	)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == exitLoggedError:
		return &pulumirpc.RunResponse{Bail: true}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program %s: %v", binary, err)}, nil
	}
}
