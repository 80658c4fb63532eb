// Command plan shows, with no Pulumi CLI and no cloud account, every
// resource a stack would have: it runs the real program under Pulumi's mocks
// with the stack's config (Pulumi.yaml defaults applied, as the CLI would),
// and prints a tree, or with -json one JSON document.
//
//	go run ./scripts/plan -stack prod
//	go run ./scripts/plan -stack prod -json
//
// Invalid config exits with status 1 and a message naming each key, before
// anything is planned.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/stacks"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "prod", "stack to plan: reads Pulumi.<stack>.yaml")
	asJSON := flags.Bool("json", false, "print one JSON document instead of a tree")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	if err := flags.Parse(args); err != nil {
		return 2
	}

	opts, err := plan.LoadOptions(*dir, *stack)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 1
	}
	p, err := plan.Run(stacks.Build, opts)
	if err != nil {
		// The SDK wraps program errors; a config error reads best alone.
		var cerr *stacks.ConfigError
		if errors.As(err, &cerr) {
			err = cerr
		}
		fmt.Fprintf(stderr, "plan: stack %s: %v\n", *stack, err)
		return 1
	}
	if *asJSON {
		err = p.WriteJSON(stdout)
	} else {
		err = p.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 1
	}
	return 0
}
