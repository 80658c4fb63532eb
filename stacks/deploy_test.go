package stacks

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/ciaccess"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
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
// queue) into a temporary hooks directory and returns that directory.
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
	return filepath.Join(dir, "hooks")
}

// runDeployJob runs a job on a deploy agent as the agent does, up to its
// checkout: the pre-bootstrap hook executed with the job's environment as
// BUILDKITE_ENV_JSON_FILE (agent/run_job.go), then, if it passed, the
// pre-checkout hook sourced with the gate's marker. It returns whether the
// job reached its checkout, and what the hooks said.
func runDeployJob(t *testing.T, hooks string, env map[string]string) (bool, string) {
	t.Helper()
	raw, err := json.Marshal(env)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "job-env.json")
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	pre := exec.Command(filepath.Join(hooks, "pre-bootstrap"))
	pre.Env = append(os.Environ(), "BUILDKITE_ENV_JSON_FILE="+file)
	out, err := pre.CombinedOutput()
	if err != nil {
		return false, string(out)
	}
	cmd := exec.Command("bash", "-c", `set -euo pipefail; source "$1"; echo JOB-RAN`, "job", filepath.Join(hooks, "pre-checkout"))
	cmd.Env = append(os.Environ(), "BUILDKITE_JOB_ID=j1", "CI_INFRA_BUILD_SAFETY=safe:j1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	more, _ := cmd.CombinedOutput()
	return strings.Contains(string(more), "JOB-RAN"), string(out) + string(more)
}

// The Buildkite clusters of the attacker's table: the deploy agents' own
// (prod's deployClusterId, as an operator will set it) and the default
// cluster every other agent registers with.
const (
	testDeployCluster  = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	testDefaultCluster = "0190ffff-0000-7000-8000-000000000000"
)

// prodWithDeployCluster plans prod with deployClusterId set, as it will be
// once the operator has created the deploy cluster (nextSteps).
func prodWithDeployCluster(t *testing.T) *plan.Plan {
	t.Helper()
	opts := plantest.StackOptions(t, "prod")
	opts.Config["ci-infra:deployClusterId"] = testDeployCluster
	p, err := plan.Run(Build, opts)
	require.NoError(t, err)
	return p
}

// The attacker's table of the CI roles (preview, deploy, publish). Every
// agent outside the deploy cluster registers with the default cluster's
// token, and any job on it can read that token: the instance role may read
// its stack's token parameter (the template's ReadAgentToken policy), the
// agent's config file belongs to the job's user, and IMDS answers
// containers. So any job can start a rogue agent that declares any tags,
// takes the jobs routed to them, and runs neither the guard nor signature
// verification (both run inside the honest agent). What no agent chooses is
// the cluster_id Buildkite's server writes into its tokens. Each row is
// decided by prod's own roles and prod's own guard: a build gets a role only
// if some role admits its token and the agent that runs it lets it run.
func TestNoForkBuildGetsACIRole(t *testing.T) {
	p := prodWithDeployCluster(t)
	object, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "config-bootstrap.sh")
	require.NoError(t, err)
	hooks := deployGuard(t, object.Input("content").(string))
	trusts := map[string]string{}
	for _, role := range []string{"preview", "deploy", "publish"} {
		r, err := p.Get("aws:iam/role:Role", "ci-access-"+role+"-role")
		require.NoError(t, err)
		trusts[role] = r.Input("assumeRolePolicy").(string)
	}
	repo, old, head := origin(t)

	type build struct {
		cluster                  string // whose agent token the agent registered with
		rogue                    bool   // an agent a job started: no guard, no verification
		pipeline, branch, commit string
		pullRequest, source      string
		triggeredFrom            string // the triggering build's pipeline (source trigger_job)
		step                     string
	}
	const deploy, other = "deploy", "default"
	// want is the role the build gets: "" for none.
	tests := []struct {
		name string
		b    build
		want string
	}{
		{"a push to main at origin's head, deploy step", build{deploy, false, "ci-infra-deploy", "main", head, "false", "webhook", "", "deploy"}, "deploy"},
		{"a push to main at origin's head, preview step", build{deploy, false, "ci-infra-deploy", "main", head, "false", "webhook", "", "preview"}, "preview"},
		// Issue 28: a UI or API build's own environment could name another role
		// or state backend, which no signature covers: refused, whatever commit.
		{"a UI build of main at origin's head", build{deploy, false, "ci-infra-deploy", "main", head, "false", "ui", "", "deploy"}, ""},
		{"an API build of main at origin's head", build{deploy, false, "ci-infra-deploy", "main", head, "false", "api", "", "deploy"}, ""},
		{"the default cluster's pipeline, whose steps come from the branch", build{other, false, "ci-infra", "main", head, "false", "webhook", "", "deploy"}, ""},
		{"the default cluster's pipeline routed to the deploy agents", build{deploy, false, "ci-infra", "main", head, "false", "webhook", "", "deploy"}, ""},
		{"a fork PR from a branch named main, on the default cluster", build{other, false, "ci-infra-deploy", "main", "f0f0f0", "13", "webhook", "", "deploy"}, ""},
		{"a fork PR from main routed to the deploy agents", build{deploy, false, "ci-infra-deploy", "main", "f0f0f0", "13", "webhook", "", "deploy"}, ""},
		{"a fork step keyed deploy at origin's head commit, as a PR", build{deploy, false, "ci-infra-deploy", "main", head, "13", "webhook", "", "deploy"}, ""},
		{"a fork-prefixed branch", build{deploy, false, "ci-infra-deploy", "mallory:main", head, "false", "trigger_job", "ci-infra", "deploy"}, ""},
		{"a deploy triggered by another pipeline", build{deploy, false, "ci-infra-deploy", "main", head, "false", "trigger_job", "materialize", "deploy"}, ""},
		{"another pipeline on the deploy agents", build{deploy, false, "materialize", "main", head, "false", "webhook", "", "deploy"}, ""},
		{"a UI build of main at an old commit", build{deploy, false, "ci-infra-deploy", "main", old, "false", "ui", "", "deploy"}, ""},
		{"a push to another branch", build{deploy, false, "ci-infra-deploy", "feature", head, "false", "webhook", "", "deploy"}, ""},
		{"a release: the release build triggers the publish at head", build{deploy, false, "downloads-publish", "main", head, "false", "trigger_job", "deploy", "publish"}, "publish"},
		{"a publish triggered by another pipeline", build{deploy, false, "downloads-publish", "main", head, "false", "trigger_job", "ci-infra", "publish"}, ""},
		{"a publish from the UI or the API, no release build behind it", build{deploy, false, "downloads-publish", "main", head, "false", "ui", "", "publish"}, ""},
		{"a publish triggered for an old commit", build{deploy, false, "downloads-publish", "main", old, "false", "trigger_job", "deploy", "publish"}, ""},
		{"a publish triggered for another branch", build{deploy, false, "downloads-publish", "feature", head, "false", "trigger_job", "deploy", "publish"}, ""},
		{"a publish triggered for a fork-prefixed main", build{deploy, false, "downloads-publish", "mallory:main", head, "false", "trigger_job", "deploy", "publish"}, ""},
		// The release build itself runs on the deploy agents, with no role:
		// TestTheReleaseIsBuiltWhereNoDefaultJobReaches.
		{"a publish on the default cluster", build{other, false, "downloads-publish", "main", head, "false", "trigger_job", "deploy", "publish"}, ""},
		// Rogue agents: a job read the default token and started its own
		// agent with queue=deploy, which wins these jobs and skips the guard.
		{"a stolen default token and a self-declared queue tag win the deploy job", build{other, true, "ci-infra-deploy", "main", head, "false", "webhook", "", "deploy"}, ""},
		{"a rogue agent takes a fork's upload job and adds a deploy step", build{other, true, "ci-infra", "main", "f0f0f0", "13", "webhook", "", "deploy"}, ""},
		{"a rogue agent takes a fork's upload job of the deploy pipeline", build{other, true, "ci-infra-deploy", "main", "f0f0f0", "13", "webhook", "", "deploy"}, ""},
		{"a rogue agent wins the preview job", build{other, true, "ci-infra-deploy", "main", head, "false", "webhook", "", "preview"}, ""},
		{"a rogue agent wins the release job", build{other, true, "downloads-publish", "main", head, "false", "trigger_job", "deploy", "publish"}, ""},
		// Every ci-infra build the gate lets run previews (the gate refuses
		// a stranger's fork before any step): the read-only role, which
		// reads no secret (TestThePreviewRoleReadsNoSecret, ciaccess).
		{"a pull request from an origin branch, preview step", build{other, false, "ci-infra", "feature", "f0f0f0", "12", "webhook", "", "preview"}, "preview"},
		{"a team member's fork pull request, preview step", build{other, false, "ci-infra", "member:feature", "f0f0f0", "13", "webhook", "", "preview"}, "preview"},
		{"a push to main of ci-infra, preview step", build{other, false, "ci-infra", "main", head, "false", "webhook", "", "preview"}, "preview"},
		{"a rogue agent takes a pull request's preview job", build{other, true, "ci-infra", "feature", "f0f0f0", "12", "webhook", "", "preview"}, "preview"},
		// Issue 31: the daily drift check is a scheduled build of the deploy
		// pipeline; its drift step reads as the preview role, and a schedule
		// runs no other step on the deploy agents.
		{"the scheduled drift check of main", build{deploy, false, "ci-infra-deploy", "main", head, "false", "schedule", "", "drift"}, "preview"},
		{"a scheduled build's deploy step", build{deploy, false, "ci-infra-deploy", "main", head, "false", "schedule", "", "deploy"}, ""},
		{"a scheduled build's preview step", build{deploy, false, "ci-infra-deploy", "main", head, "false", "schedule", "", "preview"}, ""},
		{"a rogue agent wins the drift job", build{other, true, "ci-infra-deploy", "main", head, "false", "schedule", "", "drift"}, ""},
		{"a step keyed drift in the default cluster's pipeline", build{other, false, "ci-infra", "feature", "f0f0f0", "12", "webhook", "", "drift"}, ""},
		{"a pull request's step keyed preview in another pipeline of the default cluster", build{other, false, "materialize", "feature", "f0f0f0", "12", "webhook", "", "preview"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cluster := testDefaultCluster
			if tt.b.cluster == deploy {
				cluster = testDeployCluster
			}
			queue := "default" // the queue tag the agent declared: what the roles used to trust
			if tt.b.rogue || tt.b.cluster == deploy {
				queue = "deploy"
			}
			claims := map[string]string{
				"aud":                                   ciaccess.Audience,
				"sub":                                   "organization:materialize:pipeline:" + tt.b.pipeline + ":ref:refs/heads/" + tt.b.branch + ":commit:" + tt.b.commit + ":step:" + tt.b.step,
				"aws:RequestTag/" + ciaccess.ClusterTag: cluster,
				"aws:RequestTag/agent_tag:queue":        queue,
			}
			admitted := ""
			for _, role := range []string{"preview", "deploy", "publish"} {
				ok, err := ciaccess.Admits(trusts[role], claims)
				require.NoError(t, err)
				if ok {
					require.Empty(t, admitted, "one role per build")
					admitted = role
				}
			}

			ran := true // a rogue agent, or an honest one outside the deploy cluster: no deploy guard
			if tt.b.cluster == deploy && !tt.b.rogue {
				var out string
				ran, out = runDeployJob(t, hooks, map[string]string{
					"BUILDKITE_PIPELINE_SLUG": tt.b.pipeline, "BUILDKITE_BRANCH": tt.b.branch, "BUILDKITE_COMMIT": tt.b.commit,
					"BUILDKITE_PULL_REQUEST": tt.b.pullRequest, "BUILDKITE_SOURCE": tt.b.source, "BUILDKITE_REPO": repo,
					"BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG": tt.b.triggeredFrom, "BUILDKITE_STEP_KEY": tt.b.step})
				if tt.want == "" {
					assert.Regexp(t, "deploy-guard: refusing|press Rebuild", out, "a refusal says so")
				}
			}
			got := admitted
			if !ran {
				got = ""
			}
			assert.Equal(t, tt.want, got, "admitted by the trust of role %q; run by the agent: %v", admitted, ran)
		})
	}
}

// Only the deploy agents' stack reads the deploy cluster's token: every
// other stack's instance role may read its own stack's token parameter
// (the template's ReadAgentToken policy is scoped to
// BuildkiteAgentTokenParameterStorePath), which is the default cluster's.
// So no job outside the deploy agents can register an agent in the deploy
// cluster. The preview role is denied both (components/ciaccess).
func TestOnlyTheDeployAgentsReadTheDeployToken(t *testing.T) {
	p := prodWithSecretsPlan(t)
	path := func(name string) string {
		param, err := p.Get("aws:ssm/parameter:Parameter", name)
		require.NoError(t, err)
		return param.Input("name").(string)
	}
	defaultToken, deployToken := path("agent-token-parameter"), path("deploy-agent-token-parameter")
	require.NotEqual(t, defaultToken, deployToken)
	stacks := p.Find("aws:cloudformation/stack:Stack", "")
	require.Len(t, stacks, 4)
	for _, s := range stacks {
		want := defaultToken
		if s.Name == "deploy-agents-stack" {
			want = deployToken
		}
		params := s.Input("parameters").(map[string]any)
		assert.Equal(t, want, params["BuildkiteAgentTokenParameterStorePath"], s.Name)
	}
}

// The deploy agents' pre-bootstrap guard refuses, before the job process
// starts, what would get ahead of the checkout's guard or change what runs:
// a build environment that leaves out or skips the checkout, a plugin that
// is not pinned by pipeline.yml, a marker the job set itself. Each row runs
// production's hooks as the agent does (runDeployJob).
func TestDeployAgentsRefuseBeforeTheJobStarts(t *testing.T) {
	object, err := prodPlan(t).Get("aws:s3/bucketObjectv2:BucketObjectv2", "config-bootstrap.sh")
	require.NoError(t, err)
	hooks := deployGuard(t, object.Input("content").(string))
	repo, _, head := origin(t)
	push := map[string]string{"BUILDKITE_PIPELINE_SLUG": "ci-infra-deploy", "BUILDKITE_BRANCH": "main", "BUILDKITE_COMMIT": head,
		"BUILDKITE_PULL_REQUEST": "false", "BUILDKITE_SOURCE": "webhook", "BUILDKITE_REPO": repo}
	withAll := func(changes map[string]string) map[string]string {
		env := map[string]string{}
		for a, b := range push {
			env[a] = b
		}
		for a, b := range changes {
			env[a] = b
		}
		return env
	}
	with := func(k, v string) map[string]string { return withAll(map[string]string{k: v}) }
	tests := []struct {
		name   string
		env    map[string]string
		ran    bool
		reason string
	}{
		{"a push of ci-infra-deploy main at head", push, true, ""},
		{"with no plugins", with("BUILDKITE_PLUGINS", `[]`), true, ""},
		{"the docker plugin the default pipeline pins", with("BUILDKITE_PLUGINS", `[{"docker#v5.14.0":{"image":"x"}}]`), false, "not one the deploy agents run"},
		{"the same, in full", with("BUILDKITE_PLUGINS", `[{"github.com/buildkite-plugins/docker-buildkite-plugin#v5.14.0":{}}]`), false, "not one the deploy agents run"},
		{"a plugin pinned to a commit", with("BUILDKITE_PLUGINS", `[{"github.com/mallory/x-buildkite-plugin#0123456789abcdef0123456789abcdef01234567":{}}]`), false, "not one the deploy agents run"},
		{"a build env that leaves out the checkout", with("BUILDKITE_BOOTSTRAP_PHASES", "plugin,command"), false, "BUILDKITE_BOOTSTRAP_PHASES is set"},
		{"a build env that skips the checkout", with("BUILDKITE_SKIP_CHECKOUT", "true"), false, "BUILDKITE_SKIP_CHECKOUT is set"},
		{"an attacker's plugin on a deploy step", with("BUILDKITE_PLUGINS", `[{"github.com/mallory/steal-buildkite-plugin#main":{}}]`), false, "not one the deploy agents run"},
		{"the docker plugin at another ref", with("BUILDKITE_PLUGINS", `[{"docker#main":{}}]`), false, "not one the deploy agents run"},
		{"plugins that are not a list", with("BUILDKITE_PLUGINS", `{"docker#v5.14.0":{}}`), false, "not a list of plugins"},
		{"a pre-set marker", with("CI_INFRA_BUILD_SAFETY", "safe:j1"), false, "CI_INFRA_BUILD_SAFETY is set"},
		{"git flags from the build env", with("BUILDKITE_GIT_CLONE_FLAGS", "--upload-pack=touch /tmp/pwned"), false, "BUILDKITE_GIT_CLONE_FLAGS is set"},
		{"a pull request", with("BUILDKITE_PULL_REQUEST", "13"), false, "pushes only"},
		// Issue 28: a UI or API build of main at origin's head, whose build
		// env may name another role or state backend, and a schedule's.
		{"a UI build of main at head", with("BUILDKITE_SOURCE", "ui"), false, "not of source 'ui'"},
		{"an API build of main at head with its own role", withAll(map[string]string{"BUILDKITE_SOURCE": "api",
			"CI_INFRA_DEPLOY_ROLE_ARN": "arn:aws:iam::999999999999:role/mallory"}), false, "not of source 'api'"},
		// Issue 31: a schedule runs the drift check, and nothing else.
		{"the scheduled drift check", withAll(map[string]string{"BUILDKITE_SOURCE": "schedule", "BUILDKITE_STEP_KEY": "drift"}), true, ""},
		{"a scheduled build's deploy step", withAll(map[string]string{"BUILDKITE_SOURCE": "schedule", "BUILDKITE_STEP_KEY": "deploy"}), false, "runs only the drift check"},
		{"a scheduled build's step without a key", with("BUILDKITE_SOURCE", "schedule"), false, "runs only the drift check"},
		{"a scheduled drift check of another branch", withAll(map[string]string{"BUILDKITE_SOURCE": "schedule", "BUILDKITE_STEP_KEY": "drift",
			"BUILDKITE_BRANCH": "evil"}), false, "allowed pipelines"},
		{"a build with no source", with("BUILDKITE_SOURCE", ""), false, "not of source ''"},
		{"another pipeline", with("BUILDKITE_PIPELINE_SLUG", "materialize"), false, "allowed pipelines"},
		{"a fork-prefixed branch", with("BUILDKITE_BRANCH", "mallory:main"), false, "allowed pipelines"},
		{"a branch of two lines, the second allowed", with("BUILDKITE_BRANCH", "evil\nci-infra-deploy main"), false, "more than one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ran, out := runDeployJob(t, hooks, tt.env)
			assert.Equal(t, tt.ran, ran, "%s", out)
			if !tt.ran {
				assert.Contains(t, out, tt.reason)
			}
		})
	}

	// What the agent hands the hook can be missing or malformed: refused.
	for name, content := range map[string]string{"not JSON": "BUILDKITE_BRANCH=main", "a value that is not a string": `{"BUILDKITE_BRANCH":["main"]}`} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "job-env.json")
			require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
			cmd := exec.Command(filepath.Join(hooks, "pre-bootstrap"))
			cmd.Env = append(os.Environ(), "BUILDKITE_ENV_JSON_FILE="+file)
			out, err := cmd.CombinedOutput()
			assert.Error(t, err)
			assert.Contains(t, string(out), "not an object of strings")
		})
	}
	cmd := exec.Command(filepath.Join(hooks, "pre-bootstrap"))
	out, err := cmd.CombinedOutput()
	assert.Error(t, err, "no BUILDKITE_ENV_JSON_FILE")
	assert.Contains(t, string(out), "no BUILDKITE_ENV_JSON_FILE")
}

// The deploy agents' own config refuses what the guard refuses, on its own:
// every plugin (allowed-plugins matches no source), and every variable of
// the job's environment outside the list, the phase and checkout settings
// the guard names among them. Read from the config production's bootstrap
// writes, as the agent reads it: comma-separated patterns.
func TestDeployAgentsConfigAllowsOnlyTheListedVariables(t *testing.T) {
	object, err := prodPlan(t).Get("aws:s3/bucketObjectv2:BucketObjectv2", "config-bootstrap.sh")
	require.NoError(t, err)
	bootstrap := object.Input("content").(string)
	hooks := deployGuard(t, bootstrap)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(hooks), "agent.cfg"))
	require.NoError(t, err)
	cfg := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		cfg[k] = v
	}
	assert.Equal(t, "true", cfg["no-local-hooks"])
	allowed := func(option, value string) bool {
		for _, p := range strings.Split(cfg[option], ",") {
			if regexp.MustCompile(p).MatchString(value) {
				return true
			}
		}
		return false
	}
	for _, plugin := range []string{"docker#v5.14.0", "github.com/buildkite-plugins/docker-buildkite-plugin#v5.14.0",
		"github.com/mallory/steal-buildkite-plugin#0123456789abcdef0123456789abcdef01234567"} {
		assert.False(t, allowed("allowed-plugins", plugin), "the agent refuses the plugin %s", plugin)
	}

	// What an honest deploy job carries, from Buildkite's server and the
	// pipeline's settings: all allowed.
	for _, name := range []string{"BUILDKITE_PIPELINE_SLUG", "BUILDKITE_BRANCH", "BUILDKITE_COMMIT", "BUILDKITE_SOURCE",
		"BUILDKITE_PULL_REQUEST", "BUILDKITE_JOB_ID", "BUILDKITE_AGENT_ACCESS_TOKEN", "BUILDKITE_TRIGGERED_FROM_BUILD_ID",
		"BUILDKITE_AGENT_META_DATA_QUEUE", "CI_INFRA_DEPLOY_ROLE_ARN", "PULUMI_BACKEND_URL"} {
		assert.True(t, allowed("allowed-environment-variables", name), "%s is allowed", name)
	}
	// What the guard refuses, the agent refuses too: read from the guard.
	m := regexp.MustCompile(`(?s)--args \\\n(.*?)\) \|\|`).FindStringSubmatch(bootstrap)
	require.NotNil(t, m, "the guard's list of refused variables")
	refused := strings.Fields(strings.ReplaceAll(m[1], "\\", " "))
	require.Contains(t, refused, "BUILDKITE_BOOTSTRAP_PHASES")
	for _, name := range append(refused, "BUILDKITE_X", "LD_PRELOAD", "BASH_ENV", "GIT_SSH_COMMAND") {
		assert.False(t, allowed("allowed-environment-variables", name), "%s is not allowed", name)
	}
}

// Releases are built where no default job reaches (issue 28): the release
// pipeline is in the deploy cluster, whose jobs only agents registered
// with the deploy cluster's token take (Buildkite runs a pipeline's jobs
// on its cluster's agents only), and only the deploy agents' instance role
// reads that token (TestOnlyTheDeployAgentsReadTheDeployToken). Their
// guard runs the release pipeline's pushes of its branch at origin's
// head, and nothing else of it.
func TestTheReleaseIsBuiltWhereNoDefaultJobReaches(t *testing.T) {
	p := prodPlan(t)
	settings := p.Outputs["buildkiteSettings"].Value.(map[string]any)
	clusters := map[string]string{}
	for _, pl := range settings["pipelines"].([]any) {
		clusters[pl.(map[string]any)["slug"].(string)] = pl.(map[string]any)["cluster"].(string)
	}
	assert.Equal(t, "deploy", clusters["deploy"], "the release pipeline builds in the deploy cluster")
	assert.Equal(t, "deploy", clusters["downloads-publish"])

	object, err := p.Get("aws:s3/bucketObjectv2:BucketObjectv2", "config-bootstrap.sh")
	require.NoError(t, err)
	hooks := deployGuard(t, object.Input("content").(string))
	repo, old, head := origin(t)
	release := func(branch, commit, source, pullRequest string) map[string]string {
		return map[string]string{"BUILDKITE_PIPELINE_SLUG": "deploy", "BUILDKITE_BRANCH": branch, "BUILDKITE_COMMIT": commit,
			"BUILDKITE_PULL_REQUEST": pullRequest, "BUILDKITE_SOURCE": source, "BUILDKITE_REPO": repo}
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		ran  bool
	}{
		{"a push of master at head", release("master", head, "webhook", "false"), true},
		{"a push of master at an old commit", release("master", old, "webhook", "false"), false},
		{"a push of another branch", release("feature", head, "webhook", "false"), false},
		{"a pull request into master", release("master", head, "webhook", "12"), false},
		{"a UI build of master, whose env no signature covers", release("master", head, "ui", "false"), false},
		{"a build another pipeline triggered", release("master", head, "trigger_job", "false"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ran, out := runDeployJob(t, hooks, tt.env)
			assert.Equal(t, tt.ran, ran, "%s", out)
		})
	}
}

// The hooks bootstrap.sh installs (agent/hooks/) pass shellcheck as they
// are installed on an instance, the allow-list and plugin lines written
// in: a deploy agent's pre-bootstrap and pre-checkout, and any other
// agent's pre-checkout.
func TestTheInstalledHooksPassShellcheck(t *testing.T) {
	shellcheck := testenv.ShellcheckPath(t)
	object, err := prodPlan(t).Get("aws:s3/bucketObjectv2:BucketObjectv2", "config-bootstrap.sh")
	require.NoError(t, err)
	hooks := deployGuard(t, object.Input("content").(string))
	for _, hook := range []string{"pre-bootstrap", "pre-checkout"} {
		out, err := exec.Command(shellcheck, "--severity=style", "--shell=bash", filepath.Join(hooks, hook)).CombinedOutput()
		assert.NoError(t, err, "the deploy agents' %s:\n%s", hook, out)
	}
	raw, err := os.ReadFile(filepath.Join(hooks, "pre-checkout"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "only the head of", "the deploy agents' pre-checkout holds their addition")
}
