// Command ci-infra is the Pulumi program of the CI infrastructure: the
// Buildkite agents on AWS, their secrets, DNS and downloads bucket. All of it
// is declared in package stacks.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/stacks"
)

func main() {
	pulumi.Run(stacks.Run)
}
