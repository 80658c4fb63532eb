package stacks

// What the program derives from the config: physical names (through
// label.Name, the one naming rule), the agents' zones, the gate's
// parameters and the guardrails' Args.

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/components/guardrails"
	"mtrlz.dev/ci-infra/components/label"
)

// Names of the buckets derived from the suffix. The seed's buckets are
// "buildkite-config-<SECRETNAME>" and "buildkite-managedsecrets"; both take
// the suffix so that S3's global namespace cannot collide with, or reveal,
// another account's.
func (c *Config) ConfigBucketName() string { return label.Name("buildkite-config", c.BucketSuffix) }
func (c *Config) SecretsBucketName() string {
	return label.Name("buildkite-managedsecrets", c.BucketSuffix)
}
func (c *Config) SecretsLogBucketName() string {
	return label.Name("buildkite-managedsecrets-logs", c.BucketSuffix)
}

// Zones returns the availability zones of the agents: the configured ones,
// or the region's "a" and "b" zones.
func (c *Config) Zones() []string {
	if len(c.AvailabilityZones) > 0 {
		return c.AvailabilityZones
	}
	return []string{c.Region + "a", c.Region + "b"}
}

// EnvParams are the facts the build-safety hook is generated with.
func (c *Config) EnvParams() agent.EnvParams {
	return agent.EnvParams{
		Org:                c.GitHubOrg,
		Team:               c.TrustedTeamName,
		APIURL:             c.GitHubAPIURL,
		TokenURL:           "s3://" + c.SecretsBucketName() + "/" + agent.BuildSafetyTokenKey,
		ForkBuildsFromTeam: c.ForkBuildsFromTeam,
	}
}

// guardrails turns a repository's config into the component's Args. With
// no webhookSecret (a stack that keeps no secret) it leaves the webhooks to
// the secrets stack (SecretsNeeded.Webhooks).
func (r RepositoryConfig) guardrails(webhookSecret pulumi.StringInput, importExisting bool) guardrails.Args {
	args := guardrails.Args{
		ImportExisting:    importExisting,
		Repository:        r.Name,
		DefaultBranch:     r.DefaultBranch,
		RequiredChecks:    r.RequiredChecks,
		RequiredApprovals: r.RequiredApprovals,
		DeployBranch:      r.DeployBranch,
		DeployPushers:     r.DeployPushers,
	}
	if webhookSecret == nil {
		return args
	}
	for _, w := range r.Webhooks {
		args.Webhooks = append(args.Webhooks, guardrails.Webhook{URL: w.URL, Events: w.Events, Secret: webhookSecret})
	}
	return args
}
