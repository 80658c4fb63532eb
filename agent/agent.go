// Package agent owns what runs on the Buildkite agents: the bootstrap
// script the instances run as root at boot, the build-safety gate (the
// secrets bucket's `env`, rendered from env.tmpl) and the hooks bootstrap
// installs. They are embedded here, so the uploaded objects are always the
// reviewed files of this repository (the seed's bootstrap script "is likely
// to diverge from the source of truth"; here it cannot).
package agent

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"mtrlz.dev/ci-infra/components/ident"
)

// Bootstrap is bootstrap.sh, uploaded to the config bucket and run as root by
// every agent instance at boot, as a template: RenderBootstrap writes the
// hooks it installs (hooks/) into it.
//
//go:embed bootstrap.sh
var Bootstrap string

// The hooks bootstrap.sh installs, each a file of its own so that it reads,
// diffs and lints as shell: the build-safety guard every agent sources
// before a checkout; the deploy agents' addition to it (only origin's head
// goes on); and the deploy agents' pre-bootstrap guard (the allow-list and
// plugin lines come before it, written by bootstrap.sh). The stacks tests
// run them as the agent does, and lint them as installed.
var (
	//go:embed hooks/pre-checkout.sh
	preCheckoutHook string
	//go:embed hooks/pre-checkout-deploy.sh
	preCheckoutDeployHook string
	//go:embed hooks/pre-bootstrap.sh
	preBootstrapHook string
)

// bootstrapTemplate is Bootstrap parsed once; a malformed template is a
// defect of this package, which its tests catch.
var bootstrapTemplate = template.Must(template.New("bootstrap.sh").Option("missingkey=error").Parse(Bootstrap))

// DeployTarget is one (pipeline, branch) the deploy agents run. With
// TriggeredBy, only builds that pipeline's trigger step created
// (BUILDKITE_SOURCE trigger_job, BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG);
// without, only builds no trigger created.
type DeployTarget struct{ Pipeline, Branch, TriggeredBy string }

// line is the target as the guard's allow-list writes it, and as the guard
// writes the job it is asked to run.
func (t DeployTarget) line() string {
	if t.TriggeredBy == "" {
		return t.Pipeline + " " + t.Branch
	}
	return t.Pipeline + " " + t.Branch + " " + t.TriggeredBy
}

// BootstrapParams are what the program writes into bootstrap.sh: the
// deploy queue and the allow-lists its guard enforces.
type BootstrapParams struct {
	DeployQueue string
	Allow       []DeployTarget
	// Plugins are the plugins a deploy job may use, as pipeline.yml names
	// them ("docker#v5.14.0"); the guard also accepts each one's expansion
	// (ExpandPlugin), the form BUILDKITE_PLUGINS may carry.
	Plugins []string
}

// DeployPlugins are the plugins of the steps that run on the deploy agents
// (.buildkite/deploy.yml and publish.yml; scripts/pipeline_parse_test.go
// keeps them in step): none. The agents' allowed-plugins matches no plugin
// either (AllowNoPlugin), and scripts/in-image does the docker plugin's job
// for them, so no plugin code of any ref runs beside their credentials.
var DeployPlugins []string

// DeployApprovers is the Buildkite team whose members alone may unblock a
// deploy: the allowed_teams of .buildkite/deploy.yml's block step
// (scripts/pipeline_parse_test.go keeps them equal).
const DeployApprovers = "ci-infra-deployers"

// DeploySecrets are the Buildkite secrets the deploy step reads with
// `buildkite-agent secret get` (scripts/ci-up): never in an environment.
var DeploySecrets = []string{"CI_INFRA_SECRETS_PASSPHRASE", "GITHUB_TOKEN"}

// AllowNoPlugin is the deploy agents' allowed-plugins: a pattern no
// plugin source matches (a source is never empty), so the agent itself
// refuses every plugin, before the guard would.
const AllowNoPlugin = "^$"

// DeployEnvironment is every variable a deploy job's environment may carry
// (the deploy agents' allowed-environment-variables). The agent checks each
// key of the job's environment, the ones Buildkite's server sets included,
// so those are listed one by one: a prefix such as ^BUILDKITE_ would let
// BUILDKITE_BOOTSTRAP_PHASES and the other phase and checkout settings back
// in (the guard refuses them too). The server's variables are those of
// Buildkite's "Environment variables" reference; the rest are what the
// deploy cluster's pipelines set (docs/pipelines-and-roles.md). No
// secret is among them: the deploy step reads the secrets stack's
// passphrase and the GitHub token with `buildkite-agent secret get`
// (scripts/ci-up), so a job whose environment carries one is refused.
var DeployEnvironment = []string{
	"CI", "BUILDKITE", "BUILDKITE_AGENT_ACCESS_TOKEN", "BUILDKITE_AGENT_ENDPOINT", "BUILDKITE_AGENT_ID", "BUILDKITE_AGENT_NAME",
	"BUILDKITE_ARTIFACT_PATHS", "BUILDKITE_BRANCH", "BUILDKITE_BUILD_AUTHOR", "BUILDKITE_BUILD_AUTHOR_EMAIL",
	"BUILDKITE_BUILD_CREATOR", "BUILDKITE_BUILD_CREATOR_EMAIL", "BUILDKITE_BUILD_CREATOR_TEAMS", "BUILDKITE_BUILD_ID",
	"BUILDKITE_BUILD_NUMBER", "BUILDKITE_BUILD_URL", "BUILDKITE_CLUSTER_ID", "BUILDKITE_COMMAND", "BUILDKITE_COMMIT",
	"BUILDKITE_COMPUTE_TYPE", "BUILDKITE_GROUP_ID", "BUILDKITE_GROUP_KEY", "BUILDKITE_GROUP_LABEL", "BUILDKITE_JOB_ID",
	"BUILDKITE_LABEL", "BUILDKITE_MESSAGE", "BUILDKITE_ORGANIZATION_ID", "BUILDKITE_ORGANIZATION_SLUG",
	"BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", "BUILDKITE_PIPELINE_DEFAULT_BRANCH", "BUILDKITE_PIPELINE_ID",
	"BUILDKITE_PIPELINE_NAME", "BUILDKITE_PIPELINE_PROVIDER", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_PIPELINE_TEAMS",
	"BUILDKITE_PLUGINS", "BUILDKITE_PROJECT_PROVIDER", "BUILDKITE_PROJECT_SLUG", "BUILDKITE_PULL_REQUEST",
	"BUILDKITE_PULL_REQUEST_BASE_BRANCH", "BUILDKITE_PULL_REQUEST_DRAFT", "BUILDKITE_PULL_REQUEST_LABELS",
	"BUILDKITE_PULL_REQUEST_REPO", "BUILDKITE_REBUILT_FROM_BUILD_ID", "BUILDKITE_REBUILT_FROM_BUILD_NUMBER", "BUILDKITE_REPO",
	"BUILDKITE_RETRY_COUNT", "BUILDKITE_RETRY_TYPE", "BUILDKITE_SCRIPT_PATH", "BUILDKITE_SOURCE", "BUILDKITE_STEP_ID",
	"BUILDKITE_STEP_IDENTIFIER", "BUILDKITE_STEP_KEY", "BUILDKITE_TAG", "BUILDKITE_TIMEOUT",
	"BUILDKITE_TRIGGERED_FROM_BUILD_ID", "BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER", "BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG",
	"BUILDKITE_UNBLOCKER", "BUILDKITE_UNBLOCKER_EMAIL", "BUILDKITE_UNBLOCKER_ID", "BUILDKITE_UNBLOCKER_TEAMS",
	"CI_INFRA_PREVIEW_ROLE_ARN", "CI_INFRA_DEPLOY_ROLE_ARN", "CI_INFRA_PUBLISH_ROLE_ARN", "CI_INFRA_DOWNLOADS_BUCKET",
	"PULUMI_BACKEND_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
}

// DeployEnvironmentPatterns are DeployEnvironment as the agent's
// allowed-environment-variables patterns, each anchored to one name, plus
// the agent's own tags (BUILDKITE_AGENT_META_DATA_*).
func DeployEnvironmentPatterns() []string {
	out := []string{"^BUILDKITE_AGENT_META_DATA_[A-Z0-9_]+$"}
	for _, name := range DeployEnvironment {
		out = append(out, "^"+name+"$")
	}
	return out
}

var pinnedPlugin = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*#[A-Za-z0-9._-]+$`)

// ExpandPlugin writes Buildkite's shorthand for its own plugins in full:
// "docker#v5.14.0" is github.com/buildkite-plugins/docker-buildkite-plugin
// at v5.14.0. A plugin already named by its host stays as it is.
func ExpandPlugin(p string) string {
	name, ref, _ := strings.Cut(p, "#")
	if strings.Contains(name, "/") {
		return p
	}
	return "github.com/buildkite-plugins/" + name + "-buildkite-plugin#" + ref
}

// RenderBootstrap returns bootstrap.sh with p written in as the defaults of
// the variables it reads (tests override them from the environment).
func RenderBootstrap(p BootstrapParams) (string, error) {
	var errs []error
	if !ident.IsQueue(p.DeployQueue) {
		errs = append(errs, fmt.Errorf("deploy queue %q must be %s", p.DeployQueue, ident.QueueRule))
	}
	var lines []string
	for _, t := range p.Allow {
		if !ident.IsPipelineSlug(t.Pipeline) || !ident.IsBranch(t.Branch) || (t.TriggeredBy != "" && !ident.IsPipelineSlug(t.TriggeredBy)) {
			errs = append(errs, fmt.Errorf("deploy allow-list entry %q is not a pipeline slug, a branch name and, optionally, the slug of the pipeline that triggers it", t.line()))
		}
		lines = append(lines, t.line())
	}
	var plugins []string
	for _, p := range p.Plugins {
		if !pinnedPlugin.MatchString(p) {
			errs = append(errs, fmt.Errorf("deploy plugin %q must be pinned: name#ref", p))
		}
		plugins = append(plugins, p, ExpandPlugin(p))
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	var rendered strings.Builder
	if err := bootstrapTemplate.Execute(&rendered, map[string]string{
		"PreCheckout": preCheckoutHook, "PreCheckoutDeploy": preCheckoutDeployHook, "PreBootstrap": preBootstrapHook,
	}); err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	shebang, body, _ := strings.Cut(rendered.String(), "\n")
	header := fmt.Sprintf("# Written in by the ci-infra program (agent.RenderBootstrap).\nCI_INFRA_DEPLOY_QUEUE=${CI_INFRA_DEPLOY_QUEUE:-%s}\nCI_INFRA_DEPLOY_ALLOW=${CI_INFRA_DEPLOY_ALLOW:-%s}\nCI_INFRA_DEPLOY_PLUGINS=${CI_INFRA_DEPLOY_PLUGINS:-%s}\nCI_INFRA_DEPLOY_ALLOWED_PLUGINS=${CI_INFRA_DEPLOY_ALLOWED_PLUGINS:-%s}\nCI_INFRA_DEPLOY_ALLOWED_ENV=${CI_INFRA_DEPLOY_ALLOWED_ENV:-%s}\n",
		ShellQuote(p.DeployQueue), ShellQuote(strings.Join(lines, "\n")), ShellQuote(strings.Join(plugins, "\n")),
		ShellQuote(AllowNoPlugin), ShellQuote(strings.Join(DeployEnvironmentPatterns(), ",")))
	return shebang + "\n" + header + body, nil
}
