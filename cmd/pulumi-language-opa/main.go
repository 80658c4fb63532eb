// Command pulumi-language-opa lets the Pulumi CLI v3.274 run this
// repository's OPA policy pack (policies/, `runtime: opa`).
//
// Older CLIs started a pack of runtime R by running the analyzer plugin
// pulumi-analyzer-policy-R with the engine's address and the pack's
// directory. CLI v3.274 does not: it loads the language runtime
// pulumi-language-R and asks it to RunPlugin the pack
// (pkg/resource/plugin/plugin.go, ExecPlugin, and analyzer_plugin.go,
// NewPolicyAnalyzer, which no longer has the fallback). pulumi-policy-opa
// ships only the analyzer (cmd/pulumi-analyzer-policy-opa, called as
// `pulumi-analyzer-policy-opa ENGINE PACK_DIR`), so `--policy-pack policies`
// fails with "no language plugin 'pulumi-language-opa'".
//
// This is that runtime, and nothing more: its RunPlugin starts
// pulumi-analyzer-policy-opa from the PATH as the older CLIs did and
// streams its output back. Install it next to the analyzer:
//
//	go build -o "$(go env GOPATH)/bin/pulumi-language-opa" ./cmd/pulumi-language-opa
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"mtrlz.dev/ci-infra/internal/pluginmain"
)

// analyzer is the plugin that evaluates the pack.
const analyzer = "pulumi-analyzer-policy-opa"

func main() {
	pluginmain.Serve("pulumi-language-opa", func(srv *grpc.Server) { pulumirpc.RegisterLanguageRuntimeServer(srv, &runtime{}) })
}

type runtime struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
}

func (r *runtime) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "0.1.0"}, nil
}

// RunPlugin starts the analyzer with the engine's address (the request's
// arguments) and the pack's directory, in that directory, and streams its
// stdout (where it prints its port), its stderr and its exit code.
func (r *runtime) RunPlugin(req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	if req.GetKind() != "" && req.GetKind() != "analyzer" {
		return fmt.Errorf("pulumi-language-opa runs policy packs only, not %s plugins", req.GetKind())
	}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	bin, err := exec.LookPath(analyzer)
	if err != nil {
		return fmt.Errorf("%s is not on the PATH: install it with `pulumi plugin install analyzer policy-opa` or put it there: %w", analyzer, err)
	}
	cmd := exec.CommandContext(stream.Context(), bin, append(req.GetArgs(), dir)...)
	cmd.Dir = dir
	cmd.Env = req.GetEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var mu sync.Mutex // a stream takes one Send at a time
	send := func(resp *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(resp)
	}
	var wg sync.WaitGroup
	forward := func(from io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
		defer wg.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := from.Read(buf)
			if n > 0 {
				if send(wrap(append([]byte(nil), buf[:n]...))) != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go forward(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	go forward(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	wg.Wait()
	code := 0
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
		code = exit.ExitCode()
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}
