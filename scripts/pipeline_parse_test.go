package scripts

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/buildkite/go-pipeline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/internal/testenv"
)

// The pipeline as Buildkite's own parser and interpolation read it
// (github.com/buildkite/go-pipeline, what the agent's pipeline upload uses).
func parsedPipeline(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.Root(t), ".buildkite", "pipeline.yml"))
	require.NoError(t, err)
	defer f.Close()
	p, err := pipeline.Parse(f)
	require.NoError(t, err, "Buildkite's parser accepts pipeline.yml")
	require.NoError(t, p.Interpolate(nil, false), "and interpolates it")
	return p
}

var (
	pinnedDocker = regexp.MustCompile(`^docker#v\d+\.\d+\.\d+$`)
	ciImage      = regexp.MustCompile(`^materialize/ci-infra:(\d{8}-\d{6}|not-pushed-yet)$`)
)

func TestEveryStepRunsInThePinnedImage(t *testing.T) {
	p := parsedPipeline(t)
	commands := 0
	for _, step := range p.Steps {
		cmd, ok := step.(*pipeline.CommandStep)
		if !ok {
			continue
		}
		commands++
		require.Len(t, cmd.Plugins, 1, "%s runs in the pipeline's image", cmd.Key)
		plugin := cmd.Plugins[0]
		assert.Regexp(t, pinnedDocker, plugin.Source, "%s: the docker plugin is pinned to a release", cmd.Key)
		config, ok := plugin.Config.(map[string]any)
		require.True(t, ok, "%s: the docker plugin has its options", cmd.Key)
		assert.Regexp(t, ciImage, config["image"], "%s: the image is the pipeline's, tagged by date and time by scripts/ci-image", cmd.Key)
		assert.Equal(t, true, config["mount-buildkite-agent"], "%s: the agent is there for OIDC tokens and annotations", cmd.Key)
		// Every step uses the one pinned plugin, so the deploy steps do too:
		// the deploy agents' guard admits exactly agent.DeployPlugins.
		assert.Contains(t, agent.DeployPlugins, plugin.Source, "%s: a plugin the deploy agents admit", cmd.Key)
	}
	assert.Equal(t, 3, commands, "test, preview, deploy")
}
