package scripts

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

const macosMembershipToken = "test-membership-token-not-real"

// macosAgent runs scripts/macos-agent-setup (twice: it must change nothing
// the second time) into a temporary prefix, with a gate that asks gh, and
// returns the prefix's etc/buildkite-agent.
func macosAgent(t *testing.T, gh string) string {
	t.Helper()
	dir := t.TempDir()
	etc := filepath.Join(dir, "prefix", "etc", "buildkite-agent")
	gate, err := agent.RenderEnv(agent.EnvParams{Org: "MaterializeInc", Team: "build-authorized", APIURL: gh,
		TokenFile: filepath.Join(etc, "build-safety-github-token"), ForkBuildsFromTeam: true})
	require.NoError(t, err)
	files := map[string]string{"gate": gate, "agent-token": "test-agent-token-not-real\n", "membership-token": macosMembershipToken + "\n"}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	var configs []string
	for run := 1; run <= 2; run++ {
		cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", "macos-agent-setup"),
			"--gate", filepath.Join(dir, "gate"), "--agent-token-file", filepath.Join(dir, "agent-token"),
			"--membership-token-file", filepath.Join(dir, "membership-token"))
		cmd.Env = append(os.Environ(), "SKIP_BREW=1", "MACOS_AGENT_PREFIX="+filepath.Join(dir, "prefix"))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "run %d: %s", run, out)
		assert.NotContains(t, string(out), "test-agent-token-not-real", "no token is printed")
		raw, err := os.ReadFile(filepath.Join(etc, "buildkite-agent.cfg"))
		require.NoError(t, err)
		configs = append(configs, string(raw))
	}
	assert.Equal(t, configs[0], configs[1], "a second run changes nothing")
	return etc
}

func TestMacOSAgentSetup(t *testing.T) {
	etc := macosAgent(t, "https://api.github.com")
	config, err := os.ReadFile(filepath.Join(etc, "buildkite-agent.cfg"))
	require.NoError(t, err)
	for _, line := range []string{`tags="queue=macos,os=macos"`, "git-clean-flags=-ffdq", `token="test-agent-token-not-real"`, `hooks-path="` + etc + `/hooks"`} {
		assert.Equal(t, 1, strings.Count(string(config), line+"\n"), "%s, once", line)
	}
	hook, err := os.ReadFile(filepath.Join(etc, "hooks", "environment"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(hook), "# shellcheck shell=bash\n# Build-safety gate"), "the hook is the gate first")
	assert.NotContains(t, string(hook), "AWS_ACCESS_KEY_ID", "no long-lived AWS keys")
	assert.NotContains(t, string(hook), "AWS_SECRET_ACCESS_KEY")
	info, err := os.Stat(filepath.Join(etc, "build-safety-github-token"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the membership token is the agent user's alone")
}

// The macOS agent's hook judges builds as the Linux agents' gate does: the
// agent sources it before each job.
func TestMacOSAgentRefusesUnsafeBuilds(t *testing.T) {
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+macosMembershipToken && strings.HasSuffix(r.URL.Path, "/memberships/alice") {
			w.Write([]byte(`{"state":"active","role":"member"}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer gh.Close()
	etc := macosAgent(t, gh.URL)
	origin := "git@github.com:MaterializeInc/materialize.git"
	tests := []struct {
		name string
		vars []string
		safe bool
	}{
		{"a push", []string{"BUILDKITE_SOURCE=webhook", "BUILDKITE_PULL_REQUEST=false"}, true},
		{"a Rebuild in the UI", []string{"BUILDKITE_SOURCE=ui", "BUILDKITE_PULL_REQUEST=9", "BUILDKITE_PULL_REQUEST_REPO=https://github.com/mallory/materialize"}, true},
		{"a team member's fork", []string{"BUILDKITE_SOURCE=webhook", "BUILDKITE_PULL_REQUEST=8", "BUILDKITE_PULL_REQUEST_REPO=https://github.com/alice/materialize"}, true},
		{"a stranger's fork", []string{"BUILDKITE_SOURCE=webhook", "BUILDKITE_PULL_REQUEST=9", "BUILDKITE_PULL_REQUEST_REPO=https://github.com/mallory/materialize"}, false},
		{"a trigger of a fork branch", []string{"BUILDKITE_SOURCE=trigger_job", "BUILDKITE_PULL_REQUEST=false", "BUILDKITE_BRANCH=mallory:evil"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("bash", "-c", `source "$1"; echo JOB-RAN`, "agent", filepath.Join(etc, "hooks", "environment"))
			cmd.Env = append(append(os.Environ(), "BUILDKITE_REPO="+origin, "BUILDKITE_BRANCH=main", "BUILDKITE_JOB_ID=j"), tt.vars...)
			out, _ := cmd.CombinedOutput()
			assert.Equal(t, tt.safe, strings.Contains(string(out), "JOB-RAN"), "%s", out)
			assert.NotContains(t, string(out), macosMembershipToken)
		})
	}
}
