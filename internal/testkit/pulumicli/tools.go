//go:build tools

// Package pulumicli pins the Pulumi CLI that the engine tests drive. It is a
// module of its own so that the CLI's dependencies never reach the program's
// go.mod; scripts/pulumi-cli builds it.
package pulumicli

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
