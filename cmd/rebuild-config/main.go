// Command rebuild-config writes the stack file of a rebuild: the config of
// a stack (-from) placed in a new region under new bucket names, with the
// names an AWS account holds once taken after the new stack, its secrets
// and the lost stack's alias left out, and GitHub left with the stack that
// manages it (stacks.Rebuild decides each). scripts/dr-rebuild runs it;
// docs/disaster-recovery.md is the runbook.
//
//	go run ./cmd/rebuild-config -from prod -stack dr -region us-west-2 \
//	    -bucket-suffix mtrlz-dr -downloads-bucket downloads-dr.mtrlz.dev [-o Pulumi.dr.yaml]
//
// Without -o it prints the file. An existing -o file (a rehearsed rebuild,
// a committed example) is kept if it places the stack as the flags do,
// and refused, naming each difference, if not. It exits with status 2,
// naming every problem, on a place the config would refuse, and then
// writes nothing.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/stacks"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("rebuild-config", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var r stacks.Rebuild
	flags.StringVar(&r.From, "from", "prod", "the stack whose config is copied (Pulumi.<from>.yaml)")
	flags.StringVar(&r.Stack, "stack", "", "the new stack")
	flags.StringVar(&r.Region, "region", "", "the AWS region to build in (aws:region)")
	flags.StringVar(&r.BucketSuffix, "bucket-suffix", "", "a new bucket suffix (ci-infra:bucketSuffix)")
	flags.StringVar(&r.DownloadsBucket, "downloads-bucket", "", "a new downloads bucket name (ci-infra:downloadsBucketName)")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	out := flags.String("o", "", "write the stack file here instead of printing it; an existing file is kept, if it places the stack as the flags do")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		problems := []error{err}
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			problems = joined.Unwrap()
		}
		for _, p := range problems {
			fmt.Fprintf(stderr, "rebuild-config: %v\n", p)
		}
		return 2
	}
	if err := r.Check(); err != nil {
		return fail(err)
	}
	fromFile := filepath.Join(*dir, "Pulumi."+r.From+".yaml")
	from, err := os.ReadFile(fromFile)
	if errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("%s not found: -from names a stack of this repository", fromFile))
	} else if err != nil {
		return fail(err)
	}
	effective, err := plan.LoadOptions(*dir, r.From)
	if err != nil {
		return fail(err)
	}
	file, err := r.StackFile(from, effective.Config)
	if err != nil {
		return fail(err)
	}
	if *out == "" {
		_, err = stdout.Write(file)
		if err != nil {
			return fail(err)
		}
		return 0
	}
	if existing, err := os.ReadFile(*out); err == nil {
		// A rehearsed rebuild or a committed example: kept, if it places
		// the stack where the flags say.
		diffs, err := r.Mismatches(existing, file)
		if err != nil {
			return fail(err)
		}
		if len(diffs) > 0 {
			for _, d := range diffs {
				fmt.Fprintf(stderr, "rebuild-config: %s: %s\n", *out, d)
			}
			fmt.Fprintf(stderr, "rebuild-config: %s exists and places the stack elsewhere: pass the flags it was written with, or move it aside\n", *out)
			return 2
		}
		fmt.Fprintf(stdout, "%s exists and places the stack as asked: kept\n", *out)
		return 0
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fail(err)
	}
	if _, err := f.Write(file); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	return 0
}
