// Command fakecloud is the fake cloud's provider plugin, for tests only. It
// is installed twice, as pulumi-resource-aws and pulumi-resource-github, on
// the PATH of a Pulumi CLI run; the name it runs under says which package it
// serves. FAKECLOUD_DIR is its state directory and FAKECLOUD_ACCOUNT the AWS
// account it acts in (internal/testkit/fakecloud).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"mtrlz.dev/ci-infra/components/ciaccess"
	"mtrlz.dev/ci-infra/components/policydoc"
	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
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
		p, err := fakecloud.NewProviderFromEnv(pkg, version(pkg))
		if err != nil {
			return nil, err
		}
		return p.WithAuthorizer(authorizeRead), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fakecloud %s: %v\n", pkg, err)
		os.Exit(1)
	}
}

// authorizeRead lets a role's credentials (fakecloud.EnvRole) read a
// resource of typ only if its policies permit every action the provider's
// Read of typ calls (ciaccess.ReadActions), on the resource itself where
// those actions act on it. A type with no known reads is refused: AWS
// would refuse whatever call its Read made.
func authorizeRead(typ, arn, policy string) error {
	actions, scoped, ok := ciaccess.ReadActions(typ)
	if !ok {
		return fmt.Errorf("AccessDenied: no read of %s (%s) is allowed to this role", typ, arn)
	}
	resource := "*"
	if scoped {
		resource = arn
	}
	for _, action := range actions {
		allowed, err := policydoc.Permits(policy, action, resource, nil)
		if err != nil {
			return err
		}
		if !allowed {
			return fmt.Errorf("AccessDenied: %s on %s is not allowed to this role (reading %s)", action, resource, typ)
		}
	}
	return nil
}
