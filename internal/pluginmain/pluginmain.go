// Package pluginmain owns how this repository's Pulumi plugins (the fake
// cloud's language host and analyzer stand-ins, the OPA bridge) start: the
// plugin protocol serves gRPC on a free port, prints the port on stdout for
// the engine, and runs until the engine stops it.
package pluginmain

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"google.golang.org/grpc"
)

// Serve registers the plugin's services, announces the port and serves
// until the engine is done; it exits the process on failure, naming the
// plugin.
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
