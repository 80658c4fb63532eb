//go:build engine

package agent

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// The gate's bounds in these tests. Two sets, so that no verdict depends on
// how fast a busy machine starts aws or curl (CI runs this package beside
// the engine suite on two cores):
//   - the hang scenarios prove the bound itself: S3 or GitHub never answer,
//     and the refusal must come within hangGateSeconds (plus timeout's
//     --kill-after) and hangSlack for the job around the gate, long before
//     the fakes would give up (hangFor);
//   - every other scenario asserts a verdict, with bounds so generous that
//     load cannot turn "safe" into "could not ask GitHub".
//
// Production uses DefaultGateSeconds and DefaultCallSeconds.
const (
	hangGateSeconds    = 6
	hangCallSeconds    = 2
	hangSlack          = 20 // seconds for bash, the ssh-agent and the guard around the gate
	hangFor            = 5 * time.Minute
	verdictGateSeconds = 240
	verdictCallSeconds = 100
)

// answers are GitHub's 200 answers by user: a member, an invitee, and every
// other shape that must not read as a membership. Only the top-level "state"
// counts.
var answers = map[string]string{
	"alice":         `{"url":"x","role":"member","state":"active"}`,
	"pat":           `{"url":"x","role":"member","state":"pending"}`,
	"nested-active": `{"url":"x","state":"pending","team":{"state":"active"}}`,
	"only-nested":   `{"url":"x","role":"member","team":{"state":"active"}}`,
	"array":         `[{"state":"active"}]`,
	"not-a-string":  `{"state":true}`,
	"in-a-list":     `{"state":["active"]}`,
	"in-an-object":  `{"state":{"state":"active"}}`,
	"duplicate-key": `{"state":"pending","state":"active"}`,
	"two-documents": `{"state":"active"}{"state":"active"}`,
	"truncated":     `{"state":"active"`,
	"in-a-string":   `{"message":"\"state\": \"active\""}`,
	"empty":         ``,
	"html":          `<html>"state": "active"</html>`,
	"capitalised":   `{"state":"Active"}`,
}

// job is what the agent runs for one job on an Elastic CI Stack instance,
// up to the checkout: the stack's environment hook (set -Eeuo pipefail)
// sources the secrets hook, which evals the s3secrets-helper's output with
// allexport: the lines of the ssh-agent it started, then each env file it
// could read (elastic-ci-stack-s3-secrets-hooks, hooks/environment;
// s3secrets-helper skips an env that is missing or forbidden, secrets.go).
// Then the agent sources the pre-checkout hook with the environment the
// hooks exported. JOB-RAN means the job reached its checkout.
const job = `set -Eeuo pipefail
ssh_lines=$(ssh-agent -s | grep -v '^echo')
printf '%s\n' "$ssh_lines" | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' >"$STATE/ssh-agent.pid"
envscript=$ssh_lines
if [ "$SECRETS_PLUGIN" = on ] && [ -f "$ENV_FILE" ]; then
  envscript+=$'\n'$(cat "$ENV_FILE")
fi
set -o allexport
eval "$envscript"
set +o allexport
env >"$STATE/job.env"
source "$HOOKS/pre-checkout"
echo JOB-RAN
`

// gateWorld is the fake S3 (moto) and GitHub a scenario runs against.
type gateWorld struct {
	moto, github   string
	tokenOnArgv    atomic.Bool // set if the token was seen on any process's command line
	githubRequests atomic.Int32
	hangingS3      string // an S3 endpoint that accepts and never answers
	failingS3      string // an S3 endpoint that answers 500
}

func newGateWorld(t *testing.T) *gateWorld {
	w := &gateWorld{moto: testenv.StartMoto(t)}
	putToken(t, w.moto)

	gh := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.githubRequests.Add(1)
		// While curl waits for this answer, no process may show the token.
		if tokenOnAnyCommandLine() {
			w.tokenOnArgv.Store(true)
		}
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(rw, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		prefix := "/orgs/" + testOrg + "/teams/" + testTeam + "/memberships/"
		user := strings.ToLower(strings.TrimPrefix(r.URL.Path, prefix))
		answer, known := answers[user]
		switch {
		case !strings.HasPrefix(r.URL.Path, prefix):
			http.NotFound(rw, r)
		case user == "boom":
			http.Error(rw, `{"message":"Server Error"}`, http.StatusInternalServerError)
		case user == "slow":
			select {
			case <-time.After(hangFor):
			case <-r.Context().Done():
			}
		case known:
			rw.Header().Set("Content-Type", "application/json")
			fmt.Fprint(rw, answer)
		default:
			http.Error(rw, `{"message":"Not Found"}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(gh.Close)
	w.github = gh.URL

	hang, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { hang.Close() })
	go func() {
		for {
			conn, err := hang.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // hold it open, say nothing
		}
	}()
	w.hangingS3 = "http://" + hang.Addr().String()
	fail := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, "<Error><Code>InternalError</Code></Error>", http.StatusInternalServerError)
	}))
	t.Cleanup(fail.Close)
	w.failingS3 = fail.URL
	return w
}

// putToken stores the GitHub token in moto's secrets bucket.
func putToken(t *testing.T, moto string) {
	t.Helper()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(testTokenURL, "s3://"), "/")
	for _, path := range []string{"/" + bucket, "/" + bucket + "/" + key} {
		body := ""
		if strings.Contains(path[1:], "/") {
			body = testToken + "\n"
		}
		req, err := http.NewRequest("PUT", moto+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Less(t, resp.StatusCode, 300)
	}
}

func tokenOnAnyCommandLine() bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Contains(raw, []byte(testToken)) {
			return true
		}
	}
	return false
}

// scenario is one job the gate and the guard judge.
type scenario struct {
	name       string
	vars       map[string]string
	forkBuilds bool
	s3         string // "" for moto; else an endpoint
	noEnv      bool   // the env object is missing, or unreadable (the helper skips both)
	pluginOff  bool   // SECRETS_PLUGIN_ENABLED=false: the secrets hook never runs
	hang       bool   // S3 or GitHub never answers: the gate's own bound is under test
	brokenJQ   bool   // jq is on the PATH but cannot run
	safe       bool
	reason     string // in the refusal
}

type verdict struct {
	ran            bool
	output, jobEnv string
	seconds        float64
	sshAgentPID    int // the ssh-agent the secrets hook started
}

func (w *gateWorld) run(t *testing.T, sc scenario) verdict {
	t.Helper()
	dir := t.TempDir()
	hooks := filepath.Join(dir, "hooks")
	installHooks(t, dir, hooks)
	params := EnvParams{Org: testOrg, Team: testTeam, APIURL: w.github, TokenURL: testTokenURL,
		ForkBuildsFromTeam: sc.forkBuilds, GateSeconds: verdictGateSeconds, CallSeconds: verdictCallSeconds}
	if sc.hang {
		params.GateSeconds, params.CallSeconds = hangGateSeconds, hangCallSeconds
	}
	gate, err := RenderEnv(params)
	require.NoError(t, err)
	envFile := filepath.Join(dir, "env")
	if !sc.noEnv {
		require.NoError(t, os.WriteFile(envFile, []byte(gate), 0o644))
	}
	s3 := w.moto
	if sc.s3 != "" {
		s3 = sc.s3
	}
	plugin := "on"
	if sc.pluginOff {
		plugin = "off"
	}
	path := os.Getenv("PATH")
	if sc.brokenJQ {
		bin := filepath.Join(dir, "bin")
		require.NoError(t, os.MkdirAll(bin, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(bin, "jq"), []byte("#!/bin/sh\nexit 127\n"), 0o755))
		path = bin + string(os.PathListSeparator) + path
	}
	cmd := exec.Command("bash", "-c", job)
	cmd.Env = []string{
		"PATH=" + path, "HOME=" + dir, "STATE=" + dir, "HOOKS=" + hooks, "ENV_FILE=" + envFile,
		"SECRETS_PLUGIN=" + plugin, "BUILDKITE_JOB_ID=0190-test-job", "BUILDKITE_REPO=" + origin,
		"AWS_ENDPOINT_URL=" + s3, "AWS_ACCESS_KEY_ID=test-not-a-key", "AWS_SECRET_ACCESS_KEY=test-not-a-secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1",
	}
	for k, v := range sc.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	v := verdict{output: string(out), seconds: time.Since(start).Seconds(), ran: strings.Contains(string(out), "JOB-RAN")}
	if raw, err := os.ReadFile(filepath.Join(dir, "job.env")); err == nil {
		v.jobEnv = string(raw)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "ssh-agent.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			v.sshAgentPID = pid
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGTERM) })
		}
	}
	return v
}

// alive says whether a process runs: a killed daemon nobody has reaped yet
// is a zombie, which kill -0 still finds.
func alive(pid int) bool {
	for range 20 {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// pid (comm) STATE ...
		if i := bytes.LastIndexByte(raw, ')'); i > 0 && len(raw) > i+2 && raw[i+2] == 'Z' {
			return false
		}
		time.Sleep(50 * time.Millisecond) // a SIGTERM may still be on its way
	}
	return true
}

// installHooks runs bootstrap.sh as the instance does at boot, into a
// temporary hooks directory, and returns nothing: the guard is then in hooks.
func installHooks(t *testing.T, dir, hooks string) {
	t.Helper()
	me, err := user.Current()
	require.NoError(t, err)
	cmd := exec.Command("bash", renderedBootstrap(t))
	cmd.Env = append(os.Environ(), "AGENT_USER="+me.Username, "AGENT_HOME="+filepath.Join(dir, "home"),
		"AGENT_CONFIG="+filepath.Join(dir, "agent.cfg"), "AGENT_HOOKS_PATH="+hooks)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func pr(source, number, repo string) map[string]string {
	return map[string]string{"BUILDKITE_SOURCE": source, "BUILDKITE_PULL_REQUEST": number, "BUILDKITE_PULL_REQUEST_REPO": repo, "BUILDKITE_BRANCH": "main"}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func TestBuildSafetyGateAsTheAgentRunsIt(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the guard is installed root-owned, as on an instance: run as root (CI does)")
	}
	w := newGateWorld(t)
	const fork = "https://github.com/alice/materialize.git"
	scenarios := []scenario{
		// The seed's rule.
		{name: "UI build", vars: pr("ui", "13", "git://github.com/mallory/materialize.git"), safe: true},
		{name: "API build", vars: pr("api", "false", ""), safe: true},
		{name: "Rebuild of a refused fork build", vars: pr("ui", "14", "https://github.com/mallory/materialize.git"), safe: true},
		{name: "schedule", vars: pr("schedule", "false", ""), safe: true},
		{name: "push to origin", vars: pr("webhook", "false", ""), safe: true},
		{name: "PR from an origin branch", vars: pr("webhook", "12", "git@github.com:MaterializeInc/materialize.git"), safe: true},
		{name: "PR from origin, other URL form and case", vars: pr("webhook", "12", "https://github.com/materializeinc/Materialize"), safe: true},
		{name: "fork of an active member", vars: pr("webhook", "13", fork), forkBuilds: true, safe: true},
		{name: "fork of an active member, git:// URL", vars: pr("webhook", "13", "git://github.com/Alice/materialize.git"), forkBuilds: true, safe: true},
		{name: "fork of a pending invitee", vars: pr("webhook", "15", "https://github.com/pat/materialize.git"), forkBuilds: true, reason: "pat is not an active member"},
		{name: "fork of a stranger", vars: pr("webhook", "16", "https://github.com/mallory/materialize.git"), forkBuilds: true, reason: "mallory is not an active member"},
		{name: "fork builds switched off", vars: pr("webhook", "13", fork), reason: "fork builds are switched off"},
		{name: "trigger of an origin branch", vars: with(pr("trigger_job", "false", ""), "BUILDKITE_BRANCH", "main"), safe: true},
		{name: "trigger with a fork-prefixed branch", vars: with(pr("trigger_job", "false", ""), "BUILDKITE_BRANCH", "mallory:evil"), forkBuilds: true, reason: "fork branch 'mallory:evil'"},
		{name: "trigger of a fork PR, even a member's", vars: pr("trigger_job", "13", fork), forkBuilds: true, reason: "a trigger step passed on pull request 13"},
		{name: "trigger with a foreign PR repository", vars: pr("trigger_job", "false", "https://github.com/mallory/materialize.git"), reason: "comes from mallory/materialize"},
		// Inputs the gate cannot trust.
		{name: "no source", vars: map[string]string{"BUILDKITE_PULL_REQUEST": "false"}, reason: "BUILDKITE_SOURCE is not set"},
		{name: "unknown source", vars: pr("carrier-pigeon", "false", ""), reason: "unknown build source"},
		{name: "PR number with shell", vars: pr("webhook", "1$(touch pwned)", fork), forkBuilds: true, reason: "not a pull request number"},
		{name: "fork URL with shell", vars: pr("webhook", "13", "https://github.com/$(touch pwned)/x.git"), forkBuilds: true, reason: "not a GitHub repository URL"},
		{name: "fork on another host", vars: pr("webhook", "13", "https://gitlab.com/alice/materialize.git"), forkBuilds: true, reason: "not a GitHub repository URL"},
		// The gate fails closed when its world fails.
		{name: "GitHub error", vars: pr("webhook", "17", "https://github.com/boom/materialize.git"), forkBuilds: true, reason: "could not ask GitHub"},
		{name: "GitHub hangs", vars: pr("webhook", "18", "https://github.com/slow/materialize.git"), forkBuilds: true, hang: true, reason: "could not ask GitHub"},
		{name: "S3 answers 500 for the token", vars: pr("webhook", "13", fork), forkBuilds: true, s3: w.failingS3, reason: "could not ask GitHub"},
		{name: "S3 hangs on the token", vars: pr("webhook", "13", fork), forkBuilds: true, s3: w.hangingS3, hang: true, reason: "could not ask GitHub"},
		{name: "jq cannot run", vars: pr("webhook", "13", fork), forkBuilds: true, brokenJQ: true, reason: "not a membership the gate can read"},
		// Only the top-level "state" of GitHub's answer counts.
		{name: "pending, with an active state nested", vars: pr("webhook", "19", "https://github.com/nested-active/materialize.git"), forkBuilds: true, reason: "nested-active is not an active member"},
		// The guard: the gate did not run at all.
		{name: "env missing or unreadable", vars: pr("webhook", "13", "https://github.com/mallory/materialize.git"), noEnv: true, reason: "the build-safety check did not run"},
		{name: "secrets plugin switched off", vars: pr("webhook", "13", "https://github.com/mallory/materialize.git"), pluginOff: true, reason: "the build-safety check did not run"},
		{name: "a forged marker", vars: with(pr("webhook", "16", "https://github.com/mallory/materialize.git"), "CI_INFRA_BUILD_SAFETY", "safe:another-job"), noEnv: true, reason: "the build-safety check did not run"},
	}
	for user := range answers {
		if user == "alice" || user == "pat" || user == "nested-active" {
			continue
		}
		scenarios = append(scenarios, scenario{name: "GitHub answers " + user,
			vars: pr("webhook", "20", "https://github.com/"+user+"/materialize.git"), forkBuilds: true,
			reason: "not a membership the gate can read"})
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			v := w.run(t, sc)
			assert.Equal(t, sc.safe, v.ran, "%s", v.output)
			if !sc.safe {
				assert.Contains(t, v.output, sc.reason)
				assert.Contains(t, v.output, "press Rebuild in the Buildkite UI")
				require.NotZero(t, v.sshAgentPID)
				assert.False(t, alive(v.sshAgentPID), "a refused job leaves no ssh-agent holding the deploy key")
			}
			if sc.hang {
				assert.Less(t, v.seconds, float64(hangGateSeconds+2+hangSlack), "a verdict within the gate's bound")
			}
			assert.NotContains(t, v.output+v.jobEnv, testToken, "the token is in no output and no variable of the job")
			assert.NotContains(t, v.jobEnv, "github_org=", "the check's variables stay in its own process")
			assert.NoFileExists(t, "pwned", "no input is executed")
		})
	}
	assert.False(t, w.tokenOnArgv.Load(), "the token was on a command line while GitHub was asked")
	assert.Positive(t, w.githubRequests.Load(), "GitHub was asked, so the argv check looked")
}
