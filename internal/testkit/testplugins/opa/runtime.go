package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"mtrlz.dev/ci-infra/internal/testkit/testplugins"
)

// version is the version it reports: the official plugin's, the one the
// CLI pins, set by the engine tests from testenv.OPAPluginVersion
// (-ldflags -X main.version=...).
var version = "0.0.0-stand-in"

func serveRuntime() {
	testplugins.Serve("opa stand-in", func(srv *grpc.Server) { pulumirpc.RegisterLanguageRuntimeServer(srv, &runtime{}) })
}

type runtime struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
}

func (r *runtime) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// RunPlugin starts the analyzer (this binary, with analyzerArg) with the
// engine's address (the request's arguments), in the pack's directory, and
// streams its stdout (where it prints its port), its stderr and its exit
// code.
func (r *runtime) RunPlugin(req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	if req.GetKind() != "" && req.GetKind() != "analyzer" {
		return fmt.Errorf("the opa stand-in runs policy packs only, not %s plugins", req.GetKind())
	}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(stream.Context(), self, append([]string{analyzerArg}, req.GetArgs()...)...)
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
