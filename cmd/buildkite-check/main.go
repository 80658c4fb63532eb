// Command buildkite-check compares Buildkite with the settings a stack's
// trust rests on (its buildkiteSettings output: the clusters, their queues
// and the deploy cluster's agent tokens, which pipeline lives in which
// cluster, each pipeline's repository, visibility, env, pull-request, fork
// and branch settings, its steps' signatures and its block steps' allowed
// teams, the release path's rules), through Buildkite's
// REST API. No Pulumi provider for Buildkite is served here, so this check
// is how those settings stay as declared.
//
//	BUILDKITE_API_TOKEN=... go run ./cmd/buildkite-check -stack prod
//
// The token needs read_clusters, read_pipelines and read_rules. It exits 0
// when everything matches, 1 naming each drifted setting, 2 when the
// config or the API cannot be read.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/buildkite/go-buildkite/v4"

	"mtrlz.dev/ci-infra/internal/bkcheck"
	"mtrlz.dev/ci-infra/internal/bksettings"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/stacks"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv("BUILDKITE_API_TOKEN"), os.Stdout, os.Stderr))
}

func run(args []string, token string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("buildkite-check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "prod", "stack whose settings to check: reads Pulumi.<stack>.yaml")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	api := flags.String("api", buildkite.DefaultBaseURL, "Buildkite REST API base URL")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "buildkite-check: stack %s: %v\n", *stack, err)
		return 2
	}
	if token == "" {
		return fail(errors.New("set BUILDKITE_API_TOKEN to an API access token with read_clusters, read_pipelines and read_rules"))
	}
	settings, err := declared(*dir, *stack)
	if err != nil {
		return fail(err)
	}
	client, err := buildkite.NewClient(buildkite.WithTokenAuth(token), buildkite.WithBaseURL(*api),
		buildkite.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
	if err != nil {
		return fail(err)
	}
	drifts, err := bkcheck.Check(context.Background(), client, settings)
	if err != nil {
		return fail(err)
	}
	for _, d := range drifts {
		fmt.Fprintf(stdout, "DRIFT %s\n", d)
	}
	fmt.Fprintln(stdout, bkcheck.Unseen)
	if len(drifts) > 0 {
		fmt.Fprintf(stdout, "%d settings drifted from stack %s: make them in Buildkite as nextSteps says, or change the stack's config.\n", len(drifts), *stack)
		return 1
	}
	fmt.Fprintf(stdout, "Buildkite matches stack %s: %d clusters, %d pipelines, %d rules.\n", *stack, len(settings.Clusters), len(settings.Pipelines), len(settings.Rules))
	return 0
}

// declared plans the stack offline and reads its buildkiteSettings output:
// the config is read and validated exactly as `pulumi up` would.
func declared(dir, stack string) (bksettings.Settings, error) {
	var s bksettings.Settings
	opts, err := plan.LoadOptions(dir, stack)
	if err != nil {
		return s, err
	}
	p, err := plan.Run(stacks.Checked(slices.Collect(maps.Keys(opts.Config))), opts)
	if err != nil {
		var cerr *stacks.ConfigError
		if errors.As(err, &cerr) {
			err = cerr
		}
		return s, err
	}
	out, ok := p.Outputs["buildkiteSettings"]
	if !ok {
		return s, errors.New("the stack has no buildkiteSettings output")
	}
	raw, err := json.Marshal(out.Value)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(raw, &s)
}
