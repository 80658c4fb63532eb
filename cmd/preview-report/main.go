// Command preview-report turns what `pulumi preview --json` printed into
// the Markdown a pipeline posts as its annotation, and decides the step's
// verdict (internal/previewreport):
//
//	pulumi preview --stack prod --json > p.json; go run ./cmd/preview-report -stack prod -status $? p.json
//	pulumi preview --stack prod --refresh --expect-no-changes --json > d.json; go run ./cmd/preview-report -drift -stack prod -status $? d.json
//
// A preview exits 1 when a protected resource would be replaced or deleted.
// A drift check exits 0 when the account matches the code, 1 when it
// drifted, 2 when it could not tell; the report says which, and why.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"mtrlz.dev/ci-infra/internal/confighints"
	"mtrlz.dev/ci-infra/internal/previewreport"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("preview-report", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "prod", "the stack previewed")
	status := flags.Int("status", 0, "the exit status of pulumi preview")
	drift := flags.Bool("drift", false, "report drift (pulumi preview --refresh --expect-no-changes) instead of a change")
	if err := flags.Parse(args); err != nil || flags.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: preview-report [-drift] -stack STACK -status N FILE")
		return 2
	}
	raw, err := os.ReadFile(flags.Arg(0))
	if err == nil && len(raw) == 0 {
		err = fmt.Errorf("%s is empty: pulumi preview printed nothing", flags.Arg(0))
	}
	var d previewreport.Digest
	if err == nil {
		d, err = previewreport.Parse(raw)
	}
	if err != nil {
		title := "pulumi preview"
		if *drift {
			title = "Drift check"
		}
		fmt.Fprintf(stdout, "**%s of %s** (exit %d) could not be read: %v\n", title, *stack, *status, err)
		if *drift {
			return previewreport.Uncertain
		}
		return 1
	}
	if *drift {
		report, verdict := previewreport.Drift(d, *stack, *status, hint)
		fmt.Fprint(stdout, report)
		return verdict
	}
	report, ok := previewreport.Preview(d, *stack, *status)
	fmt.Fprint(stdout, report)
	if !ok {
		return 1
	}
	return 0
}

func hint(resource, property string) (string, string, bool) {
	h, ok := confighints.For(resource, property)
	return h.Key, h.Derived, ok
}
