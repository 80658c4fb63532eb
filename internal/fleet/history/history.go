// Package history turns an organisation's job history, as Buildkite's
// REST API gives it (go-buildkite v4), into a trace for the fleet
// simulator: what an operator tunes the agent stacks with, instead of the
// shipped traces' assumptions.
package history

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/buildkite/go-buildkite/v4"

	"mtrlz.dev/ci-infra/internal/fleet"
)

// Builds lists an organisation's builds, a page at a time
// (buildkite.BuildsService).
type Builds interface {
	ListByOrg(ctx context.Context, org string, opt *buildkite.BuildsListOptions) ([]buildkite.Build, *buildkite.Response, error)
}

// Summary says what the export kept and what it left out, and why.
type Summary struct {
	Pages, Builds, Jobs int
	// Steps that run on no agent: wait, block (manual) and trigger steps.
	// Their effect stays: the jobs behind them are made early and become
	// runnable late (created_seconds before start_seconds).
	NotAgentJobs int
	// Jobs that never ran (canceled or skipped, or still running).
	NotRun int
}

// Epoch is the instant t = 0 of the trace of jobs since `since`: the
// Monday 00:00 UTC on or before it, as the simulator's traces begin (its
// working hours are by weekday).
func Epoch(since time.Time) time.Time {
	day := since.UTC().Truncate(24 * time.Hour)
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	return day.AddDate(0, 0, -back)
}

// Trace reads every build created since `since` and returns its agent
// jobs as a trace: start when the job became runnable, created when it was
// made (earlier when it waited on a wait or block step, or on another
// job), its queue from the agent query rules (queue=…; "default" without
// one, as Buildkite routes it), and how long it ran. Every attempt of a
// retried job is a job of its own, at the time it really ran. progress
// gets a line per page.
func Trace(ctx context.Context, builds Builds, org string, since time.Time, progress io.Writer) ([]fleet.Job, Summary, error) {
	epoch := Epoch(since)
	seconds := func(ts *buildkite.Timestamp) int { return int(ts.Time.Sub(epoch) / time.Second) }
	opt := &buildkite.BuildsListOptions{CreatedFrom: since, IncludeRetriedJobs: true, ListOptions: buildkite.ListOptions{Page: 1, PerPage: 100}}
	var jobs []fleet.Job
	var sum Summary
	for {
		page, resp, err := builds.ListByOrg(ctx, org, opt)
		if err != nil {
			return nil, sum, fmt.Errorf("listing the builds of %s (page %d): %w", org, opt.Page, err)
		}
		sum.Pages++
		for _, b := range page {
			sum.Builds++
			for _, j := range b.Jobs {
				if j.Type != "script" {
					sum.NotAgentJobs++
					continue
				}
				if j.RunnableAt == nil || j.StartedAt == nil || j.FinishedAt == nil || j.CreatedAt == nil {
					sum.NotRun++
					continue
				}
				job := fleet.Job{Start: seconds(j.RunnableAt), Created: seconds(j.CreatedAt), Queue: queueOf(j.AgentQueryRules),
					Duration: max(1, int(j.FinishedAt.Time.Sub(j.StartedAt.Time)/time.Second))}
				job.Created = max(0, min(job.Created, job.Start))
				if job.Start < 0 {
					continue // runnable before the trace's epoch: outside the window
				}
				jobs = append(jobs, job)
				sum.Jobs++
			}
		}
		fmt.Fprintf(progress, "%s: page %d, %d builds, %d jobs so far\n", org, opt.Page, sum.Builds, sum.Jobs)
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Created < jobs[j].Created })
	return jobs, sum, nil
}

// queueOf is the queue an agent query routes to: queue=NAME, or
// "default" when no rule names one.
func queueOf(rules []string) string {
	for _, r := range rules {
		if q, ok := strings.CutPrefix(r, "queue="); ok && q != "" {
			return q
		}
	}
	return "default"
}
