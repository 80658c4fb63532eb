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

	"mtrlz.dev/ci-infra/components/ident"
)

// Bootstrap is bootstrap.sh, uploaded to the config bucket and run as root by
// every agent instance at boot.
//
//go:embed bootstrap.sh
var Bootstrap string

// DeployTarget is one (pipeline, branch) the deploy agents run.
type DeployTarget struct{ Pipeline, Branch string }

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
// (.buildkite/pipeline.yml; scripts/pipeline_parse_test.go keeps the two
// in step): each pinned to a ref.
var DeployPlugins = []string{"docker#v5.14.0"}

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
		if !ident.IsPipelineSlug(t.Pipeline) || !ident.IsBranch(t.Branch) {
			errs = append(errs, fmt.Errorf("deploy allow-list entry %q %q is not a pipeline slug and a branch name", t.Pipeline, t.Branch))
		}
		lines = append(lines, t.Pipeline+" "+t.Branch)
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
	shebang, body, _ := strings.Cut(Bootstrap, "\n")
	header := fmt.Sprintf("# Written in by the ci-infra program (agent.RenderBootstrap).\nCI_INFRA_DEPLOY_QUEUE=${CI_INFRA_DEPLOY_QUEUE:-%s}\nCI_INFRA_DEPLOY_ALLOW=${CI_INFRA_DEPLOY_ALLOW:-%s}\nCI_INFRA_DEPLOY_PLUGINS=${CI_INFRA_DEPLOY_PLUGINS:-%s}\n",
		ShellQuote(p.DeployQueue), ShellQuote(strings.Join(lines, "\n")), ShellQuote(strings.Join(plugins, "\n")))
	return shebang + "\n" + header + body, nil
}
