package agent

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBootstrapIsIdempotent(t *testing.T) {
	me, err := user.Current()
	require.NoError(t, err)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	cfg := filepath.Join(dir, "buildkite-agent.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte("name=agent-%n\ngit-clean-flags=-ffxdq\n"), 0o644))

	script := renderedBootstrap(t)
	for run := 1; run <= 2; run++ {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "AGENT_USER="+me.Username, "AGENT_HOME="+home, "AGENT_CONFIG="+cfg)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "run %d: %s", run, out)
	}
	for _, d := range []string{".cache/sccache", ".cargo"} {
		info, err := os.Stat(filepath.Join(home, d))
		require.NoError(t, err)
		assert.True(t, info.IsDir())
	}
	got, err := os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(got), "git-clean-flags="), "set once, however often it runs")
	assert.Contains(t, string(got), "git-clean-flags=-ffdq\n", "ignored build caches survive a checkout")
	assert.Contains(t, string(got), "name=agent-%n\n", "other settings are kept")
}

// renderedBootstrap writes bootstrap.sh as the program renders it, its
// hooks (hooks/) written in, and returns its path.
func renderedBootstrap(t *testing.T) string {
	t.Helper()
	content, err := RenderBootstrap(BootstrapParams{DeployQueue: "deploy"})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "bootstrap.sh")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o755))
	return path
}
