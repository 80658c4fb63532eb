// Package testplugins holds the Pulumi plugins that only the engine tests
// run (internal/testkit/enginetest), one command per subdirectory, and what they
// share: how a plugin starts. None of them is for operators, and none is
// ever installed where it would shadow an official plugin outside a test's
// own PATH or Pulumi home:
//
//   - fakecloud: the fake cloud's resource provider, run as
//     pulumi-resource-aws and pulumi-resource-github;
//   - languagego: a Go language host, run as pulumi-language-go (the real
//     one ships with the CLI's release, which is not served here);
//   - opa: a stand-in for the official OPA language plugin
//     (pulumi-language-opa 1.1.3), installed in the test's plugin cache.
package testplugins

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"google.golang.org/grpc"
)

// Serve registers the plugin's services on a free port, prints the port on
// stdout for the engine (the plugin protocol), and serves until the engine
// is done. It exits the process on failure, naming the plugin.
func Serve(name string, register func(*grpc.Server)) {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			register(srv)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Println(handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
