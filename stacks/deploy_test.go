package stacks

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/ciaccess"
)

// origin makes a repository with two commits on main and returns its path
// (what BUILDKITE_REPO names), the old commit and the head.
func origin(t *testing.T) (repo, old, head string) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("commit", "-q", "--allow-empty", "-m", "old")
	old = git("rev-parse", "HEAD")
	git("commit", "-q", "--allow-empty", "-m", "head")
	git("branch", "master") // the main repository's release branch, at the same head
	return dir, old, git("rev-parse", "HEAD")
}

// deployGuard installs production's bootstrap on a deploy agent (its
// queue) into a temporary hooks directory and returns the guard's path.
func deployGuard(t *testing.T, bootstrap string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("bootstrap installs the guard root-owned, as on an instance; CI runs as root")
	}
	me, err := user.Current()
	require.NoError(t, err)
	dir := t.TempDir()
	script := filepath.Join(dir, "bootstrap.sh")
	require.NoError(t, os.WriteFile(script, []byte(bootstrap), 0o755))
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "BUILDKITE_QUEUE=deploy", "AGENT_USER="+me.Username, "AGENT_HOME="+filepath.Join(dir, "home"),
		"AGENT_CONFIG="+filepath.Join(dir, "agent.cfg"), "AGENT_HOOKS_PATH="+filepath.Join(dir, "hooks"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return filepath.Join(dir, "hooks", "pre-checkout")
}

// No build of a fork gets a CI role: a token must carry the deploy queue's
// tag (the roles' trust) and the job must pass the deploy agents' guard.
// Both are production's own, from its plan.
func TestNoForkBuildGetsACIRole(t *testing.T) {
	p := prodPlan(t)
	object, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "config-bootstrap.sh")
	require.NoError(t, err)
	guard := deployGuard(t, object.Input("content").(string))
	trustOf := func(name string) string {
		role, err := p.Get("aws:iam/role:Role", name)
		require.NoError(t, err)
		return role.Input("assumeRolePolicy").(string)
	}
	// Each pipeline's own role: ci-infra deploys, the main repository's
	// "deploy" pipeline publishes.
	trusts := map[string]string{"ci-infra": trustOf("ci-access-deploy-role"), "deploy": trustOf("ci-access-publish-role"), "materialize": trustOf("ci-access-deploy-role")}
	repo, old, head := origin(t)

	type build struct {
		queue                    string // the agent's queue: its tag, which the token carries
		pipeline, branch, commit string
		pullRequest, source      string
		step                     string
	}
	tests := []struct {
		name string
		b    build
		want bool
	}{
		{"a push to main at origin's head, deploy step", build{"deploy", "ci-infra", "main", head, "false", "webhook", "deploy"}, true},
		{"a UI build of main at origin's head", build{"deploy", "ci-infra", "main", head, "false", "ui", "deploy"}, true},
		{"a fork PR from a branch named main, on the default queue", build{"default", "ci-infra", "main", "f0f0f0", "13", "webhook", "deploy"}, false},
		{"a fork PR from main asking for the deploy queue", build{"deploy", "ci-infra", "main", "f0f0f0", "13", "webhook", "deploy"}, false},
		{"a fork step keyed deploy at origin's head commit, as a PR", build{"deploy", "ci-infra", "main", head, "13", "webhook", "deploy"}, false},
		{"a fork-prefixed branch", build{"deploy", "ci-infra", "mallory:main", head, "false", "trigger_job", "deploy"}, false},
		{"another pipeline on the deploy queue", build{"deploy", "materialize", "main", head, "false", "webhook", "deploy"}, false},
		{"a UI build of main at an old commit", build{"deploy", "ci-infra", "main", old, "false", "ui", "deploy"}, false},
		{"a push to another branch", build{"deploy", "ci-infra", "feature", head, "false", "webhook", "deploy"}, false},
		{"a release: a push to master of the publishing pipeline at head", build{"deploy", "deploy", "master", head, "false", "webhook", "upload"}, true},
		{"a release from a fork's PR from a branch named master", build{"deploy", "deploy", "master", "f0f0f0", "7", "webhook", "upload"}, false},
		{"a release of another branch", build{"deploy", "deploy", "feature", head, "false", "webhook", "upload"}, false},
		{"a release from the default queue", build{"default", "deploy", "master", head, "false", "webhook", "upload"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]string{
				"aud":                                 ciaccess.Audience,
				"sub":                                 "organization:materialize:pipeline:" + tt.b.pipeline + ":ref:refs/heads/" + tt.b.branch + ":commit:" + tt.b.commit + ":step:" + tt.b.step,
				"aws:RequestTag/" + ciaccess.QueueTag: tt.b.queue,
			}
			admitted, err := ciaccess.Admits(trusts[tt.b.pipeline], claims)
			require.NoError(t, err)

			ran := true // the default queue has no deploy guard; the trust decides
			if tt.b.queue == "deploy" {
				cmd := exec.Command("bash", "-c", `set -euo pipefail; source "$1"; echo JOB-RAN`, "job", guard)
				cmd.Env = append(os.Environ(), "BUILDKITE_JOB_ID=j1", "CI_INFRA_BUILD_SAFETY=safe:j1",
					"BUILDKITE_PIPELINE_SLUG="+tt.b.pipeline, "BUILDKITE_BRANCH="+tt.b.branch, "BUILDKITE_COMMIT="+tt.b.commit,
					"BUILDKITE_PULL_REQUEST="+tt.b.pullRequest, "BUILDKITE_SOURCE="+tt.b.source, "BUILDKITE_REPO="+repo)
				out, _ := cmd.CombinedOutput()
				ran = strings.Contains(string(out), "JOB-RAN")
				if !tt.want {
					assert.Contains(t, string(out), "press Rebuild", "a refusal says so")
				}
			}
			assert.Equal(t, tt.want, admitted && ran, "admitted by the trust: %v; run by the deploy guard: %v", admitted, ran)
		})
	}
}
