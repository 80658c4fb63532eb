package scripts

import (
	"encoding/json"
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

// The pipelines of this repository, by file: pipeline.yml is uploaded by
// the default cluster's pipeline; deploy.yml and publish.yml are the deploy
// cluster's pipelines' signed steps.
const (
	defaultPipeline = "pipeline.yml"
	deployPipeline  = "deploy.yml"
	publishPipeline = "publish.yml"
)

// parsedPipeline is a pipeline file as Buildkite's own parser and
// interpolation read it (github.com/buildkite/go-pipeline, what the agent's
// pipeline upload and tool sign use).
func parsedPipeline(t *testing.T, file string) *pipeline.Pipeline {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.Root(t), ".buildkite", file))
	require.NoError(t, err)
	defer f.Close()
	p, err := pipeline.Parse(f)
	require.NoError(t, err, "Buildkite's parser accepts %s", file)
	require.NoError(t, p.Interpolate(nil, false), "and interpolates it")
	return p
}

var (
	pinnedDocker = regexp.MustCompile(`^docker#v\d+\.\d+\.\d+$`)
	ciImage      = regexp.MustCompile(`^materialize/ci-infra:(\d{8}-\d{6}|not-pushed-yet)$`)
)

func TestEveryStepRunsInThePinnedImage(t *testing.T) {
	p := parsedPipeline(t, defaultPipeline)
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
	}
	assert.Equal(t, 2, commands, "test and preview")
}

// The deploy cluster's steps run no plugin: the deploy agents allow none
// (agent.DeployPlugins is empty), so scripts/in-image runs the image, and
// publish-release needs none. Their files hold no `$`: these are settings
// steps, and what they run must be what was signed, not what an
// interpolation made of it.
func TestTheDeployClustersStepsRunNoPlugin(t *testing.T) {
	assert.Empty(t, agent.DeployPlugins, "the deploy agents run no plugin")
	for _, file := range []string{deployPipeline, publishPipeline} {
		raw, err := os.ReadFile(filepath.Join(testenv.Root(t), ".buildkite", file))
		require.NoError(t, err)
		assert.NotContains(t, string(raw), "$", "%s interpolates nothing", file)
		for _, step := range parsedPipeline(t, file).Steps {
			cmd, ok := step.(*pipeline.CommandStep)
			if !ok {
				continue
			}
			assert.Empty(t, cmd.Plugins, "%s: %s runs no plugin", file, cmd.Key)
			assert.Regexp(t, `^scripts/(in-image scripts/ci-(preview|up) prod|publish-release)$`, cmd.Command, "%s: %s runs a reviewed script", file, cmd.Key)
		}
	}
}

// The default cluster's agents are spot: every step of pipeline.yml retries
// a job that an interruption stopped (signal_reason agent_stop, or exit -1
// when the instance died first), twice, and never a refusal, whose limit-0
// rules come first (Buildkite applies the first rule that matches).
func TestEveryStepRetriesSpotInterruptions(t *testing.T) {
	want := []any{
		map[string]any{"signal_reason": "agent_refused", "limit": 0},
		map[string]any{"signal_reason": "signature_rejected", "limit": 0},
		map[string]any{"signal_reason": "agent_stop", "limit": 2},
		map[string]any{"exit_status": -1, "limit": 2},
	}
	p := parsedPipeline(t, defaultPipeline)
	commands := 0
	for _, step := range p.Steps {
		cmd, ok := step.(*pipeline.CommandStep)
		if !ok {
			continue
		}
		commands++
		retry, ok := normalise(cmd.RemainingFields["retry"]).(map[string]any)
		require.True(t, ok, "%s has retry rules: %#v", cmd.Key, cmd.RemainingFields)
		assert.Equal(t, want, retry["automatic"], "%s", cmd.Key)
	}
	assert.Positive(t, commands)
}

// normalise turns the parser's ordered maps and numbers into plain ones.
func normalise(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	var fix func(any) any
	fix = func(v any) any {
		switch x := v.(type) {
		case []any:
			for i := range x {
				x[i] = fix(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = fix(x[k])
			}
		case float64:
			return int(x)
		}
		return v
	}
	return fix(out)
}
