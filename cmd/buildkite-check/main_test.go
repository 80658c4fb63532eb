package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// fakeBuildkite is a Buildkite organisation served as the REST API serves
// it (the paths and JSON of github.com/buildkite/go-buildkite/v4 v4.23.0).
type fakeBuildkite struct {
	clusters  []map[string]any
	queues    map[string][]string // cluster ID -> queue keys
	tokens    map[string][]map[string]any
	pipelines map[string]map[string]any
	rules     []map[string]any
	schedules map[string][]map[string]any // pipeline slug -> its schedules (go-buildkite PipelineSchedule)
}

// signed is a settings' step list as scripts/sign-steps prints it: each
// command step with its signature (the value is not checked here).
func signed(steps string) string {
	return strings.ReplaceAll(steps, "    command:", "    signature:\n      algorithm: ES256\n      signed_fields: [command, env, plugins, matrix, repository_url]\n      value: eyJhbGciOiJFUzI1NiJ9..c2lnbmF0dXJl\n    command:")
}

// The deploy cluster's pipelines' steps, as operators paste them.
var (
	deploySteps = signed(`steps:
  - key: preview
    agents: {queue: deploy}
    command: scripts/in-image scripts/ci-preview prod
  - block: "Deploy prod?"
    key: approve
    allowed_teams: ["ci-infra-deployers"]
  - key: deploy
    agents: {queue: deploy}
    command: scripts/in-image scripts/ci-up prod
`)
	publishSteps = signed(`steps:
  - key: publish
    agents: {queue: deploy}
    command: scripts/publish-release
`)
	releaseSteps = signed(`steps:
  - key: build
    agents: {queue: deploy}
    command: bin/release build
  - trigger: downloads-publish
`)
)

const (
	deployClusterID  = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	defaultClusterID = "0190ffff-0000-7000-8000-000000000000"
)

// asDeclared is prod's Buildkite as nextSteps asks an operator to make it.
func asDeclared() *fakeBuildkite {
	pipeline := func(id, cluster, repo string, settings map[string]any, branches, steps string) map[string]any {
		return map[string]any{"id": id, "cluster_id": cluster, "branch_configuration": branches, "repository": repo, "visibility": "private",
			"configuration": steps, "provider": map[string]any{"id": "github", "settings": settings}}
	}
	const ciRepo, mainRepo = "git@github.com:MaterializeInc/ci-infra.git", "https://github.com/MaterializeInc/materialize.git"
	ci := pipeline("p-ci", defaultClusterID, ciRepo, map[string]any{"trigger_mode": "code", "build_pull_requests": true,
		"build_pull_request_forks": true, "prefix_pull_request_fork_branch_names": true}, "", "steps:\n  - command: buildkite-agent pipeline upload\n")
	// The default pipeline's settings hold the preview's role and backend
	// (nextSteps); only the deploy cluster's must hold none.
	ci["env"] = map[string]any{"CI_INFRA_PREVIEW_ROLE_ARN": "arn:aws:iam::123456789012:role/ci-infra-prod-preview"}
	return &fakeBuildkite{
		clusters: []map[string]any{{"id": defaultClusterID, "name": "Default"}, {"id": deployClusterID, "name": "deploy"}},
		queues:   map[string][]string{defaultClusterID: {"default", "builders"}, deployClusterID: {"deploy"}},
		tokens: map[string][]map[string]any{
			defaultClusterID: {{"id": "t1", "description": "buildkite stacks"}, {"id": "t2", "description": "macOS"}},
			deployClusterID:  {{"id": "t3", "description": "buildkite-deploy"}},
		},
		pipelines: map[string]map[string]any{
			"ci-infra":          ci,
			"ci-infra-deploy":   pipeline("p-deploy", deployClusterID, ciRepo, map[string]any{"trigger_mode": "code", "build_pull_requests": false}, "main", deploySteps),
			"downloads-publish": pipeline("p-publish", deployClusterID, ciRepo, map[string]any{"trigger_mode": "none"}, "", publishSteps),
			"deploy":            pipeline("p-release", deployClusterID, mainRepo, map[string]any{"trigger_mode": "code", "build_pull_requests": false}, "master", releaseSteps),
		},
		schedules: map[string][]map[string]any{
			"ci-infra-deploy": {{"id": "s1", "label": "drift check", "cronline": "0 6 * * *", "branch": "main", "enabled": true}},
		},
		rules: []map[string]any{
			{"uuid": "r1", "type": "pipeline.trigger_build.pipeline", "source_type": "pipeline", "source_uuid": "p-release", "target_type": "pipeline", "target_uuid": "p-publish"},
			{"uuid": "r2", "type": "pipeline.artifacts_read.pipeline", "source_type": "pipeline", "source_uuid": "p-publish", "target_type": "pipeline", "target_uuid": "p-release"},
		},
	}
}

func (f *fakeBuildkite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer test-token" {
		http.Error(w, `{"message":"Authentication required"}`, http.StatusUnauthorized)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	switch {
	case len(parts) == 4 && parts[3] == "clusters":
		reply(f.clusters)
	case len(parts) == 6 && parts[3] == "clusters" && parts[5] == "tokens":
		reply(f.tokens[parts[4]])
	case len(parts) == 6 && parts[3] == "clusters" && parts[5] == "queues":
		var qs []map[string]any
		for _, k := range f.queues[parts[4]] {
			qs = append(qs, map[string]any{"id": parts[4] + "-" + k, "key": k})
		}
		reply(qs)
	case len(parts) == 6 && parts[3] == "pipelines" && parts[5] == "schedules":
		reply(append([]map[string]any{}, f.schedules[parts[4]]...))
	case len(parts) == 5 && parts[3] == "pipelines":
		p, ok := f.pipelines[parts[4]]
		if !ok {
			http.Error(w, `{"message":"No pipeline found"}`, http.StatusNotFound)
			return
		}
		reply(p)
	case len(parts) == 4 && parts[3] == "rules":
		reply(f.rules)
	default:
		http.NotFound(w, r)
	}
}

// project copies the project's config into a directory, with prod's
// deployClusterId set as the operator sets it.
func project(t *testing.T, deployCluster string) string {
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.prod.yaml"} {
		raw, err := os.ReadFile(filepath.Join(testenv.Root(t), f))
		require.NoError(t, err)
		if f == "Pulumi.prod.yaml" && deployCluster != "" {
			raw = append(raw, []byte("  ci-infra:deployClusterId: "+deployCluster+"\n")...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), raw, 0o644))
	}
	return dir
}

func check(t *testing.T, f *fakeBuildkite, dir string) (int, string) {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	code := run([]string{"-stack", "prod", "-dir", dir, "-api", srv.URL + "/"}, "test-token", &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestBuildkiteAsDeclaredPasses(t *testing.T) {
	code, out := check(t, asDeclared(), project(t, deployClusterID))
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "Buildkite matches stack prod: 2 clusters, 4 pipelines, 2 rules.")
	assert.Contains(t, out, "Not checked", "it says what it cannot see")
}

// Each setting the trust rests on, changed in Buildkite, is named.
func TestEachDriftIsNamed(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *fakeBuildkite)
		drift  string
	}{
		{"the deploy pipeline moved to the default cluster", func(f *fakeBuildkite) { f.pipelines["ci-infra-deploy"]["cluster_id"] = defaultClusterID },
			"pipeline ci-infra-deploy cluster: want deploy (" + deployClusterID + ")"},
		{"the default pipeline moved into the deploy cluster", func(f *fakeBuildkite) { f.pipelines["ci-infra"]["cluster_id"] = deployClusterID },
			"pipeline ci-infra cluster: want default"},
		{"pull-request builds on for the deploy pipeline", func(f *fakeBuildkite) {
			f.pipelines["ci-infra-deploy"]["provider"].(map[string]any)["settings"].(map[string]any)["build_pull_requests"] = true
		}, "pipeline ci-infra-deploy provider_settings.build_pull_requests: want false, got true"},
		{"fork branches not prefixed", func(f *fakeBuildkite) {
			f.pipelines["ci-infra"]["provider"].(map[string]any)["settings"].(map[string]any)["prefix_pull_request_fork_branch_names"] = false
		}, "pipeline ci-infra provider_settings.prefix_pull_request_fork_branch_names: want true, got false"},
		{"fork builds off", func(f *fakeBuildkite) {
			f.pipelines["ci-infra"]["provider"].(map[string]any)["settings"].(map[string]any)["build_pull_request_forks"] = false
		}, "pipeline ci-infra provider_settings.build_pull_request_forks: want true, got false"},
		{"the deploy pipeline builds every branch", func(f *fakeBuildkite) { f.pipelines["ci-infra-deploy"]["branch_configuration"] = "" },
			"pipeline ci-infra-deploy branch_configuration: want main, got none"},
		{"the publish pipeline built by pushes", func(f *fakeBuildkite) {
			f.pipelines["downloads-publish"]["provider"].(map[string]any)["settings"].(map[string]any)["trigger_mode"] = "code"
		}, "pipeline downloads-publish provider_settings.trigger_mode: want none, got code"},
		{"the release builds pull requests", func(f *fakeBuildkite) {
			f.pipelines["deploy"]["provider"].(map[string]any)["settings"].(map[string]any)["build_pull_requests"] = true
		}, "pipeline deploy provider_settings.build_pull_requests: want false, got true"},
		{"the deploy queue in the default cluster too", func(f *fakeBuildkite) {
			f.queues[defaultClusterID] = append(f.queues[defaultClusterID], "deploy")
		}, `cluster deploy queue "deploy": want only in cluster ` + deployClusterID},
		{"no trigger rule", func(f *fakeBuildkite) { f.rules = f.rules[1:] },
			"rule pipeline.trigger_build.pipeline deploy -> downloads-publish: want present, got absent"},
		{"the artifacts rule the wrong way round", func(f *fakeBuildkite) {
			f.rules[1]["source_uuid"], f.rules[1]["target_uuid"] = "p-release", "p-publish"
		}, "rule pipeline.artifacts_read.pipeline downloads-publish -> deploy: want present, got absent"},
		{"the deploy pipeline deleted", func(f *fakeBuildkite) { delete(f.pipelines, "ci-infra-deploy") },
			"pipeline ci-infra-deploy: want to exist"},
		// Issue 31: the drift check's schedule, and no other in the deploy cluster.
		{"no drift schedule", func(f *fakeBuildkite) { delete(f.schedules, "ci-infra-deploy") },
			`pipeline ci-infra-deploy schedule "drift check": want 0 6 * * * of main, got absent`},
		{"the drift schedule of another branch", func(f *fakeBuildkite) { f.schedules["ci-infra-deploy"][0]["branch"] = "feature" },
			`pipeline ci-infra-deploy schedule "drift check" branch: want main, got feature`},
		{"the drift schedule paused", func(f *fakeBuildkite) { f.schedules["ci-infra-deploy"][0]["enabled"] = false },
			`pipeline ci-infra-deploy schedule "drift check" enabled: want true, got false`},
		{"the drift schedule monthly", func(f *fakeBuildkite) { f.schedules["ci-infra-deploy"][0]["cronline"] = "0 6 1 * *" },
			`pipeline ci-infra-deploy schedule "drift check" cronline: want 0 6 * * *, got 0 6 1 * *`},
		{"the drift schedule with an env of its own", func(f *fakeBuildkite) {
			f.schedules["ci-infra-deploy"][0]["env"] = map[string]any{"CI_INFRA_PREVIEW_ROLE_ARN": "arn:aws:iam::999999999999:role/mallory"}
		}, `pipeline ci-infra-deploy schedule "drift check" env: want none, got CI_INFRA_PREVIEW_ROLE_ARN`},
		{"a schedule of the release", func(f *fakeBuildkite) {
			f.schedules["deploy"] = []map[string]any{{"id": "s2", "label": "nightly", "cronline": "0 2 * * *", "branch": "master", "enabled": true}}
		}, `pipeline deploy schedule "nightly": want absent`},
		// Issue 28: what else the API shows.
		{"a second queue in the deploy cluster", func(f *fakeBuildkite) { f.queues[deployClusterID] = append(f.queues[deployClusterID], "release") },
			"cluster deploy queues: want only deploy, got also release"},
		{"a second agent token of the deploy cluster", func(f *fakeBuildkite) {
			f.tokens[deployClusterID] = append(f.tokens[deployClusterID], map[string]any{"id": "t4", "description": "laptop"})
		}, `cluster deploy agent tokens: want 1, got 2 ("buildkite-deploy", "laptop")`},
		{"a role in the deploy pipeline's env", func(f *fakeBuildkite) {
			f.pipelines["ci-infra-deploy"]["env"] = map[string]any{"CI_INFRA_DEPLOY_ROLE_ARN": "arn:aws:iam::999999999999:role/mallory", "PULUMI_BACKEND_URL": "s3://mallory"}
		}, "pipeline ci-infra-deploy env: want none (its steps' signed env holds what they need), got CI_INFRA_DEPLOY_ROLE_ARN, PULUMI_BACKEND_URL"},
		{"the publish pipeline made public", func(f *fakeBuildkite) { f.pipelines["downloads-publish"]["visibility"] = "public" },
			"pipeline downloads-publish visibility: want private, got public"},
		{"the deploy pipeline building a fork", func(f *fakeBuildkite) {
			f.pipelines["ci-infra-deploy"]["repository"] = "git@github.com:mallory/ci-infra.git"
		}, "pipeline ci-infra-deploy repository: want MaterializeInc/ci-infra, got git@github.com:mallory/ci-infra.git"},
		{"an unsigned step pasted into the deploy pipeline", func(f *fakeBuildkite) {
			f.pipelines["ci-infra-deploy"]["configuration"] = deploySteps + "  - key: debug\n    command: env\n"
		}, `pipeline ci-infra-deploy step "debug": want signed (scripts/sign-steps), got no signature`},
		{"an unsigned release step", func(f *fakeBuildkite) {
			f.pipelines["deploy"]["configuration"] = "steps:\n  - key: build\n    command: bin/release build\n"
		}, `pipeline deploy step "build": want signed (scripts/sign-steps), got no signature`},
		{"anyone may unblock a deploy", func(f *fakeBuildkite) {
			f.pipelines["ci-infra-deploy"]["configuration"] = strings.ReplaceAll(deploySteps, `    allowed_teams: ["ci-infra-deployers"]`+"\n", "")
		}, `pipeline ci-infra-deploy block step "approve" allowed_teams: want ci-infra-deployers, got none`},
		{"another team may unblock a deploy", func(f *fakeBuildkite) {
			f.pipelines["ci-infra-deploy"]["configuration"] = strings.ReplaceAll(deploySteps, `["ci-infra-deployers"]`, `["everyone"]`)
		}, `pipeline ci-infra-deploy block step "approve" allowed_teams: want ci-infra-deployers, got everyone`},
	}
	dir := project(t, deployClusterID)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := asDeclared()
			tt.change(f)
			code, out := check(t, f, dir)
			assert.Equal(t, 1, code, out)
			assert.Contains(t, out, "DRIFT "+tt.drift)
		})
	}
}

// Prod as committed has no deployClusterId yet: the check says so.
func TestNoDeployClusterIsADrift(t *testing.T) {
	code, out := check(t, asDeclared(), project(t, ""))
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "DRIFT cluster deploy: want a cluster with the queues deploy, got none")
}

func TestBadInputsExitTwo(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 2, run([]string{"-stack", "prod", "-dir", project(t, deployClusterID)}, "", &out, &out))
	assert.Contains(t, out.String(), "BUILDKITE_API_TOKEN")
	out.Reset()
	srv := httptest.NewServer(asDeclared())
	defer srv.Close()
	assert.Equal(t, 2, run([]string{"-stack", "prod", "-dir", project(t, deployClusterID), "-api", srv.URL + "/"}, "wrong-token", &out, &out))
	assert.Contains(t, out.String(), "401")
}
