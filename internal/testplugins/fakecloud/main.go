// Command fakecloud is the fake cloud's provider plugin, for tests only. It
// is installed twice, as pulumi-resource-aws and pulumi-resource-github, on
// the PATH of a Pulumi CLI run; the name it runs under says which package it
// serves. FAKECLOUD_DIR is its state directory and FAKECLOUD_ACCOUNT the AWS
// account it acts in (internal/fakecloud).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"mtrlz.dev/ci-infra/internal/fakecloud"
)

// versions are the provider versions to report, "aws=6.83.2,github=6.7.2",
// set by the engine tests from go.mod (-ldflags -X main.versions=...), so
// that the engine does not warn that the plugin is not the version the
// program asks for.
var versions string

func version(pkg string) string {
	for _, kv := range strings.Split(versions, ",") {
		if name, v, ok := strings.Cut(kv, "="); ok && name == pkg {
			return v
		}
	}
	return "0.0.0-fakecloud"
}

func main() {
	pkg := fakecloud.PackageName(filepath.Base(os.Args[0]))
	if pkg != "aws" && pkg != "github" {
		fmt.Fprintf(os.Stderr, "fakecloud: run me as pulumi-resource-aws or pulumi-resource-github, not %s\n", os.Args[0])
		os.Exit(2)
	}
	err := provider.Main(pkg, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return fakecloud.NewProviderFromEnv(pkg, version(pkg))
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fakecloud %s: %v\n", pkg, err)
		os.Exit(1)
	}
}
