// Package bkcheck compares Buildkite, through its REST API (go-buildkite
// v4), with the settings a stack declares (internal/bksettings), and names
// each one that drifted: clusters and queues, agent tokens, pipelines'
// clusters, GitHub, repository, env, signature and block-step settings,
// and the cluster rules.
package bkcheck

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/buildkite/go-buildkite/v4"
	"github.com/buildkite/go-pipeline"

	"mtrlz.dev/ci-infra/internal/bksettings"
)

// Drift is one setting Buildkite does not have as declared.
type Drift struct {
	Setting   string
	Want, Got string
}

func (d Drift) String() string {
	return fmt.Sprintf("%s: want %s, got %s", d.Setting, d.Want, d.Got)
}

// Unseen is what the check cannot see through the API, said on every run.
const Unseen = "Not checked (the API cannot show it): which cluster token the SSM parameters hold (token values are shown once, at creation), " +
	"whether the steps' signatures verify (the deploy agents check that, and refuse a job that fails), " +
	"and the teams' permissions on the pipelines."

// Check compares Buildkite with s and returns every drift, in a stable
// order. An error means the API could not be read, not a drift.
func Check(ctx context.Context, c *buildkite.Client, s bksettings.Settings) ([]Drift, error) {
	var drifts []Drift
	drift := func(setting, want, got string) { drifts = append(drifts, Drift{setting, want, got}) }

	clusters, err := list(func(o buildkite.ListOptions) ([]buildkite.Cluster, *buildkite.Response, error) {
		return c.Clusters.List(ctx, s.Organization, &buildkite.ClustersListOptions{ListOptions: o})
	})
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	queues := map[string][]string{} // cluster ID -> queue keys
	for _, cl := range clusters {
		qs, err := list(func(o buildkite.ListOptions) ([]buildkite.ClusterQueue, *buildkite.Response, error) {
			return c.ClusterQueues.List(ctx, s.Organization, cl.ID, &buildkite.ClusterQueuesListOptions{ListOptions: o})
		})
		if err != nil {
			return nil, fmt.Errorf("list the queues of cluster %s: %w", cl.ID, err)
		}
		for _, q := range qs {
			queues[cl.ID] = append(queues[cl.ID], q.Key)
		}
	}
	clusterIDs := map[string]string{} // role -> ID
	for _, want := range s.Clusters {
		id := want.ID
		setting := fmt.Sprintf("cluster %s", want.Role)
		if id == "" && want.Role == bksettings.DeployCluster {
			// The roles trust this cluster's ID: it must be declared, not
			// guessed from the queues.
			got := "none"
			if found := holding(queues, want.Queues); found != "" {
				got = "none: the stack's deployClusterId is unset (the cluster " + found + " has the queues; set it if that is the one)"
			}
			drift(setting, "a cluster with the queues "+strings.Join(want.Queues, ", "), got)
			continue
		}
		if id == "" {
			id = holding(queues, want.Queues)
		}
		if id == "" {
			drift(setting, "a cluster with the queues "+strings.Join(want.Queues, ", "), "none (the stack's deployClusterId is unset, or no cluster holds them)")
			continue
		}
		if _, ok := queues[id]; !ok {
			drift(setting, "cluster "+id, "no such cluster in "+s.Organization)
			continue
		}
		clusterIDs[want.Role] = id
		if want.OnlyTheseQueues {
			extra := slices.DeleteFunc(slices.Clone(queues[id]), func(q string) bool { return slices.Contains(want.Queues, q) })
			sort.Strings(extra)
			if len(extra) > 0 {
				drift(setting+" queues", "only "+strings.Join(want.Queues, ", "), "also "+strings.Join(extra, ", "))
			}
		}
		if want.Tokens > 0 {
			tokens, err := list(func(o buildkite.ListOptions) ([]buildkite.ClusterToken, *buildkite.Response, error) {
				return c.ClusterTokens.List(ctx, s.Organization, id, &buildkite.ClusterTokensListOptions{ListOptions: o})
			})
			if err != nil {
				return nil, fmt.Errorf("list the agent tokens of cluster %s: %w", id, err)
			}
			if len(tokens) != want.Tokens {
				var names []string
				for _, tk := range tokens {
					names = append(names, fmt.Sprintf("%q", tk.Description))
				}
				drift(setting+" agent tokens", fmt.Sprint(want.Tokens), fmt.Sprintf("%d (%s)", len(tokens), orNone(names)))
			}
		}
		for _, q := range want.Queues {
			var in []string
			for cid, keys := range queues {
				if slices.Contains(keys, q) {
					in = append(in, cid)
				}
			}
			sort.Strings(in)
			if !slices.Equal(in, []string{id}) {
				drift(fmt.Sprintf("%s queue %q", setting, q), "only in cluster "+id, "in "+orNone(in))
			}
		}
	}

	pipelineIDs := map[string]string{}
	for _, want := range s.Pipelines {
		name := "pipeline " + want.Slug
		p, _, err := c.Pipelines.Get(ctx, s.Organization, want.Slug)
		if err != nil {
			drift(name, "to exist", "error: "+err.Error())
			continue
		}
		pipelineIDs[want.Slug] = p.ID
		if id, ok := clusterIDs[want.Cluster]; ok && p.ClusterID != id {
			drift(name+" cluster", want.Cluster+" ("+id+")", orNone([]string{p.ClusterID}))
		}
		if want.Cluster != bksettings.DeployCluster && p.ClusterID != "" && p.ClusterID == clusterIDs[bksettings.DeployCluster] {
			drift(name+" cluster", "not the deploy cluster", p.ClusterID)
		}
		checkPipeline(want, p, drift)
		if len(want.Schedules) > 0 || want.Cluster == bksettings.DeployCluster {
			schedules, err := list(func(o buildkite.ListOptions) ([]buildkite.PipelineSchedule, *buildkite.Response, error) {
				return c.PipelineSchedules.List(ctx, s.Organization, want.Slug, &buildkite.PipelineScheduleListOptions{ListOptions: o})
			})
			if err != nil {
				return nil, fmt.Errorf("list the schedules of pipeline %s: %w", want.Slug, err)
			}
			checkSchedules(want, schedules, drift)
		}
		gh, ok := p.Provider.Settings.(*buildkite.GitHubSettings)
		if !ok {
			drift(name+" provider", "github", p.Provider.ID)
			continue
		}
		mode := gh.TriggerMode
		if mode == "" {
			mode = "code"
		}
		if mode != want.Builds {
			drift(name+" provider_settings.trigger_mode", want.Builds, mode)
		}
		if want.Builds == "none" {
			continue
		}
		if gh.BuildPullRequests != want.PullRequests {
			drift(name+" provider_settings.build_pull_requests", fmt.Sprint(want.PullRequests), fmt.Sprint(gh.BuildPullRequests))
		}
		if want.PullRequests {
			if gh.BuildPullRequestForks != want.Forks {
				drift(name+" provider_settings.build_pull_request_forks", fmt.Sprint(want.Forks), fmt.Sprint(gh.BuildPullRequestForks))
			}
			if gh.PrefixPullRequestForkBranchNames != want.PrefixForkBranches {
				drift(name+" provider_settings.prefix_pull_request_fork_branch_names", fmt.Sprint(want.PrefixForkBranches), fmt.Sprint(gh.PrefixPullRequestForkBranchNames))
			}
		}
		if want.BranchFilter != "" && strings.TrimSpace(p.BranchConfiguration) != want.BranchFilter {
			drift(name+" branch_configuration", want.BranchFilter, orNone([]string{p.BranchConfiguration}))
		}
	}

	if len(s.Rules) > 0 {
		rules, err := list(func(o buildkite.ListOptions) ([]buildkite.Rule, *buildkite.Response, error) {
			return c.Rules.List(ctx, s.Organization, &buildkite.RulesListOptions{ListOptions: o})
		})
		if err != nil {
			return nil, fmt.Errorf("list rules: %w", err)
		}
		for _, want := range s.Rules {
			src, tgt := pipelineIDs[want.Source], pipelineIDs[want.Target]
			found := slices.ContainsFunc(rules, func(r buildkite.Rule) bool {
				return r.Type == want.Type && src != "" && r.SourceUUID == src && r.TargetUUID == tgt && r.Effect != "deny"
			})
			if !found {
				drift(fmt.Sprintf("rule %s %s -> %s", want.Type, want.Source, want.Target), "present", "absent")
			}
		}
	}
	return drifts, nil
}

// checkSchedules compares a pipeline's schedules with the declared ones:
// each present by label, with its cronline and branch, enabled, with no env
// of its own (a schedule's env is a build env no signature covers); and,
// in the deploy cluster, no other.
func checkSchedules(want bksettings.Pipeline, got []buildkite.PipelineSchedule, drift func(setting, want, got string)) {
	name := "pipeline " + want.Slug
	declared := map[string]bool{}
	for _, w := range want.Schedules {
		declared[w.Label] = true
		i := slices.IndexFunc(got, func(s buildkite.PipelineSchedule) bool { return s.Label == w.Label })
		if i < 0 {
			drift(fmt.Sprintf("%s schedule %q", name, w.Label), fmt.Sprintf("%s of %s", w.Cronline, w.Branch), "absent")
			continue
		}
		g := got[i]
		setting := fmt.Sprintf("%s schedule %q", name, w.Label)
		if strings.TrimSpace(g.Cronline) != w.Cronline {
			drift(setting+" cronline", w.Cronline, orNone([]string{g.Cronline}))
		}
		if g.Branch != w.Branch {
			drift(setting+" branch", w.Branch, orNone([]string{g.Branch}))
		}
		if !g.Enabled {
			drift(setting+" enabled", "true", "false")
		}
		if len(g.Env) > 0 {
			drift(setting+" env", "none", strings.Join(slices.Sorted(maps.Keys(g.Env)), ", "))
		}
	}
	if want.Cluster != bksettings.DeployCluster {
		return
	}
	for _, g := range got {
		if !declared[g.Label] {
			drift(fmt.Sprintf("%s schedule %q", name, g.Label), "absent (the deploy cluster's pipelines run no other schedule)", g.Cronline)
		}
	}
}

// checkPipeline compares what a pipeline's settings say of its
// repository, visibility, environment and steps.
func checkPipeline(want bksettings.Pipeline, p buildkite.Pipeline, drift func(setting, want, got string)) {
	name := "pipeline " + want.Slug
	if want.Repository != "" && RepositorySlug(p.Repository) != strings.ToLower(want.Repository) {
		drift(name+" repository", want.Repository, orNone([]string{p.Repository}))
	}
	if want.Visibility != "" && p.Visibility != want.Visibility {
		drift(name+" visibility", want.Visibility, orNone([]string{p.Visibility}))
	}
	if want.NoEnv && len(p.Env) > 0 {
		keys := slices.Sorted(maps.Keys(p.Env))
		drift(name+" env", "none (its steps' signed env holds what they need)", strings.Join(keys, ", "))
	}
	if !want.Signed && len(want.BlockTeams) == 0 {
		return
	}
	steps, err := pipeline.Parse(strings.NewReader(p.Configuration))
	if err != nil {
		drift(name+" steps", "its signed steps", "unreadable: "+err.Error())
		return
	}
	blocks := 0
	for _, st := range steps.Steps {
		switch st := st.(type) {
		case *pipeline.CommandStep:
			if want.Signed && st.Signature == nil {
				drift(fmt.Sprintf("%s step %q", name, stepName(st.Key, st.Label)), "signed (scripts/sign-steps)", "no signature")
			}
		case *pipeline.InputStep:
			blocks++
			var teams []string
			if list, ok := st.Contents["allowed_teams"].([]any); ok {
				for _, t := range list {
					teams = append(teams, fmt.Sprint(t))
				}
			} else if one, ok := st.Contents["allowed_teams"].(string); ok {
				teams = []string{one}
			}
			if len(want.BlockTeams) > 0 && !slices.Equal(teams, want.BlockTeams) {
				key, _ := st.Contents["key"].(string)
				drift(fmt.Sprintf("%s block step %q allowed_teams", name, key), strings.Join(want.BlockTeams, ", "), orNone(teams))
			}
		}
	}
	if len(want.BlockTeams) > 0 && blocks == 0 {
		drift(name+" block step", "one, unblocked only by "+strings.Join(want.BlockTeams, ", "), "none")
	}
}

func stepName(key, label string) string {
	if key != "" {
		return key
	}
	return label
}

// RepositorySlug is a GitHub repository URL in any form Buildkite keeps
// (git@github.com:o/r.git, https://github.com/o/r.git, ...) as o/r,
// lowercased: GitHub's names are case-insensitive.
func RepositorySlug(url string) string {
	s := strings.TrimSuffix(strings.TrimSpace(url), ".git")
	for _, prefix := range []string{"git@github.com:", "ssh://git@github.com/", "https://github.com/", "http://github.com/", "git://github.com/"} {
		if strings.HasPrefix(s, prefix) {
			return strings.ToLower(strings.TrimPrefix(s, prefix))
		}
	}
	return strings.ToLower(s)
}

// list reads every page of a listing.
func list[T any](page func(buildkite.ListOptions) ([]T, *buildkite.Response, error)) ([]T, error) {
	var all []T
	opts := buildkite.ListOptions{Page: 1, PerPage: 100}
	for {
		items, resp, err := page(opts)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if resp == nil || resp.NextPage == 0 || resp.NextPage == opts.Page {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// holding is the one cluster whose queues include all of want, or "".
func holding(queues map[string][]string, want []string) string {
	var found []string
	for id, keys := range queues {
		if !slices.ContainsFunc(want, func(q string) bool { return !slices.Contains(keys, q) }) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

func orNone(s []string) string {
	s = slices.DeleteFunc(slices.Clone(s), func(v string) bool { return v == "" })
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
