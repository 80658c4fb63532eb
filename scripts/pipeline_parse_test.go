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
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
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
	ciImage      = regexp.MustCompile(`^materialize/ci-infra:(\d{8}-\d{6}@sha256:[0-9a-f]{64}|not-pushed-yet)$`)
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
		assert.Regexp(t, ciImage, config["image"], "%s: the image is the pipeline's, by the digest scripts/ci-image push wrote", cmd.Key)
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
			assert.Regexp(t, `^scripts/(in-image scripts/ci-(preview|up|drift) prod|publish-release)$`, cmd.Command, "%s: %s runs a reviewed script", file, cmd.Key)
		}
	}
}

// The default cluster's agents are spot: every step of pipeline.yml retries
// a job that an interruption stopped (signal_reason agent_stop, or exit -1
// when the instance died first), twice, and never a refusal. Each outcome
// is matched against the rules as Buildkite documents it (retry.md: the
// first rule that matches applies; an absent exit_status or signal_reason
// is "*"; exit_status "*" is any status from 1 to 255, so not -1).
func TestEveryStepRetriesSpotInterruptions(t *testing.T) {
	outcomes := []struct {
		name         string
		exitStatus   int
		signalReason string // "" for none
		retries      int
	}{
		{"the deploy guard refuses the job", -1, "agent_refused", 0},
		{"the agent rejects the job's signature", -1, "signature_rejected", 0},
		{"a spot stop, the job ended by SIGQUIT", 143, "agent_stop", 2},
		{"a spot stop, the instance gone first", -1, "agent_stop", 2},
		{"a lost agent", -1, "", 2},
		{"an ordinary failure", 1, "", 0},
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
		rules, ok := retry["automatic"].([]any)
		require.True(t, ok, "%s: automatic retry rules", cmd.Key)
		for _, o := range outcomes {
			got := 0
			for _, r := range rules {
				rule := r.(map[string]any)
				if retryRuleMatches(rule, o.exitStatus, o.signalReason) {
					got = rule["limit"].(int)
					break
				}
			}
			assert.Equal(t, o.retries, got, "%s: %s (exit %d, signal_reason %q) is retried this often", cmd.Key, o.name, o.exitStatus, o.signalReason)
		}
	}
	assert.Positive(t, commands)
}

// retryRuleMatches reports whether an automatic retry rule applies to a
// job that ended with exitStatus and signalReason ("" for none).
func retryRuleMatches(rule map[string]any, exitStatus int, signalReason string) bool {
	status, ok := rule["exit_status"]
	if !ok {
		status = "*"
	}
	statusMatches := false
	for _, s := range listOf(status) {
		switch s := s.(type) {
		case string:
			statusMatches = statusMatches || (s == "*" && exitStatus >= 1 && exitStatus <= 255)
		case int:
			statusMatches = statusMatches || s == exitStatus
		}
	}
	reason, ok := rule["signal_reason"].(string)
	if !ok {
		reason = "*"
	}
	reasonMatches := reason == "*" || reason == signalReason || (reason == "none" && signalReason == "")
	return statusMatches && reasonMatches
}

// listOf is v, or v's elements when it is a list.
func listOf(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
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

// signedDestinations are, for each step of the deploy cluster, the
// variables that decide where its credentials and secrets go: the role it
// assumes, the state it reads and writes, the bucket it publishes to, the
// region. Each must be in the step's signed env, so that no build's own
// environment can change it (the agent refuses a job whose environment
// differs from its signed step env: buildkite/agent v3.137
// agent/verify_job.go).
var signedDestinations = map[string][]string{
	"preview": {"CI_INFRA_PREVIEW_ROLE_ARN", "PULUMI_BACKEND_URL", "AWS_REGION"},
	"drift":   {"CI_INFRA_PREVIEW_ROLE_ARN", "PULUMI_BACKEND_URL", "AWS_REGION"},
	"deploy":  {"CI_INFRA_DEPLOY_ROLE_ARN", "PULUMI_BACKEND_URL", "AWS_REGION"},
	"publish": {"CI_INFRA_PUBLISH_ROLE_ARN", "CI_INFRA_DOWNLOADS_BUCKET", "AWS_REGION"},
}

// placeholderValue is how a deploy-cluster file writes a value that
// scripts/sign-steps fills in from the stack.
var placeholderValue = regexp.MustCompile(`^<((output|config):[A-Za-z0-9:_]+|backend)>$`)

func TestTheDeployClustersStepsSignWhereCredentialsGo(t *testing.T) {
	seen := map[string]bool{}
	for _, file := range []string{deployPipeline, publishPipeline} {
		for _, step := range parsedPipeline(t, file).Steps {
			cmd, ok := step.(*pipeline.CommandStep)
			if !ok {
				continue
			}
			want, ok := signedDestinations[cmd.Key]
			require.True(t, ok, "%s: the step %s is in the table above", file, cmd.Key)
			seen[cmd.Key] = true
			for _, name := range want {
				assert.Regexp(t, placeholderValue, cmd.Env[name], "%s: %s signs %s", file, cmd.Key, name)
			}
		}
	}
	assert.Len(t, seen, len(signedDestinations))
}

// Only a named Buildkite team may unblock a deploy: by default anyone who
// may build the pipeline could.
func TestOnlyATeamUnblocksADeploy(t *testing.T) {
	blocks := 0
	for _, step := range parsedPipeline(t, deployPipeline).Steps {
		input, ok := step.(*pipeline.InputStep)
		if !ok {
			continue
		}
		blocks++
		teams, _ := normalise(input.Contents["allowed_teams"]).([]any)
		assert.Equal(t, []any{agent.DeployApprovers}, teams, "the block step %v names allowed_teams", input.Contents["key"])
	}
	assert.Equal(t, 1, blocks)
}
