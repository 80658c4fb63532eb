// Command ci-infra-secrets is the Pulumi program of the secrets stacks: for
// a main stack with separateSecrets (project ci-infra, the repository's
// root), the stack of the same name here writes the agent tokens into SSM
// and the secret objects into the secrets bucket, from its own encrypted
// config. Operators and the deploy pipeline run it; no pull request
// previews it. All of it is declared in package stacks (secrets.go).
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/stacks"
)

func main() {
	pulumi.Run(stacks.RunSecrets)
}
