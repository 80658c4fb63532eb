package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/buildkite/go-buildkite/v4"

	"mtrlz.dev/ci-infra/internal/fleet"
	"mtrlz.dev/ci-infra/internal/fleet/history"
)

// tokenVariable holds the REST API token -from-buildkite reads with: a
// token with the read_builds scope only.
const tokenVariable = "BUILDKITE_API_TOKEN"

// exportHistory writes the organisation's jobs since `since` as a trace,
// to out or stdout, with progress lines on stderr.
func exportHistory(org, since, api, out string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "fleet: -from-buildkite %s: %v\n", org, err)
		return 1
	}
	back, err := parseSince(since)
	if err != nil {
		return fail(err)
	}
	token := os.Getenv(tokenVariable)
	if token == "" {
		return fail(fmt.Errorf("set %s to a Buildkite API token with the read_builds scope", tokenVariable))
	}
	client, err := buildkite.NewOpts(buildkite.WithBaseURL(api), buildkite.WithTokenAuth(token))
	if err != nil {
		return fail(err)
	}
	from := time.Now().UTC().Add(-back)
	jobs, sum, err := history.Trace(context.Background(), client.Builds, org, from, stderr)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "%d jobs from %d builds since %s (t = 0 is %s); left out: %d wait, block and trigger steps, %d jobs that never ran\n",
		sum.Jobs, sum.Builds, from.Format(time.RFC3339), history.Epoch(from).Format(time.RFC3339), sum.NotAgentJobs, sum.NotRun)
	text := fleet.FormatTrace(jobs)
	if out == "" {
		_, err = io.WriteString(stdout, text)
	} else {
		err = os.WriteFile(out, []byte(text), 0o644)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// parseSince reads a look-back such as 30d, 72h or 90m.
func parseSince(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("-since %q: want a number of days such as 30d, or a duration such as 72h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("-since %q: want a number of days such as 30d, or a duration such as 72h", s)
	}
	return d, nil
}
