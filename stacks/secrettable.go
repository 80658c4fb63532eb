package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/agent"
)

// secretSpec is one secret the program can need, in one row: its config
// key, when a stack needs it and why (the error that asks for it), who
// holds it and where a new one comes from (what scripts/dr-rebuild asks
// an operator), where it goes (secretPlaces), and its value in Config.
// Every check, the secrets stack, and the scripts (through cmd/plan
// -secrets) read this table; no other list of secrets exists.
type secretSpec struct {
	Key           string
	needed        func(c *Config) bool
	why           string
	Owner, Source string
	place         func(tokenDir string) SecretPlace
	value         func(c *Config) *pulumi.StringOutput
}

func always(*Config) bool { return true }

var secretTable = []secretSpec{
	{Key: "buildkiteAgentToken", needed: always,
		why:   "is needed: the default cluster's agent token, which every stack but the deploy agents' registers with",
		Owner: "a Buildkite organization admin", Source: "Buildkite: Agents, Agent tokens, new token for the stack",
		place: func(dir string) SecretPlace {
			return SecretPlace{Name: "agent-token", Parameter: dir + "buildkite-agent-token"}
		},
		value: func(c *Config) *pulumi.StringOutput { return c.BuildkiteAgentToken }},
	{Key: "buildkiteDeployAgentToken", needed: always,
		why:   "is needed: the deploy cluster's agent token (deployClusterId)",
		Owner: "a Buildkite organization admin", Source: "Buildkite: Agents, the deploy agents' cluster (ci-infra:deployClusterId), Agent tokens, new token for the stack",
		place: func(dir string) SecretPlace {
			return SecretPlace{Name: "deploy-agent-token", Parameter: dir + "buildkite-deploy-agent-token"}
		},
		value: func(c *Config) *pulumi.StringOutput { return c.BuildkiteDeployAgentToken }},
	{Key: "agentSshPrivateKey", needed: always,
		why:   "is needed: the key the agents clone with",
		Owner: "whoever holds the materializer GitHub user (company password manager)", Source: "the existing key file, or a new one from ssh-keygen -t ed25519",
		place: func(string) SecretPlace {
			return SecretPlace{Name: agent.PrivateSSHKeyKey, Object: agent.PrivateSSHKeyKey}
		},
		value: func(c *Config) *pulumi.StringOutput { return c.AgentSSHPrivateKey }},
	{Key: "buildSafetyGithubToken", needed: func(c *Config) bool { return c.ForkBuildsFromTeam },
		why:   "is needed when forkBuildsFromTeam is true, its default (a read-only token that can read the team's memberships); or set forkBuildsFromTeam to false to refuse every fork build",
		Owner: "a GitHub organization owner", Source: "a read:org token the build-safety gate asks team membership with (not needed only if forkBuildsFromTeam is false)",
		place: func(string) SecretPlace {
			return SecretPlace{Name: agent.BuildSafetyTokenKey, Object: agent.BuildSafetyTokenKey}
		},
		value: func(c *Config) *pulumi.StringOutput { return c.BuildSafetyGitHubToken }},
	{Key: "dockerHubUser", needed: func(c *Config) bool { return c.DockerHubLogin },
		why:   "is needed while dockerHubLogin is true, its default (safe builds log in to Docker Hub to push and pull the ci-* images); or set dockerHubLogin to false",
		Owner: "whoever holds the company password manager", Source: "the Docker Hub account the builds log in as (unless dockerHubLogin is false)",
		place: func(string) SecretPlace {
			return SecretPlace{Name: agent.EnvironmentKey, Object: agent.EnvironmentKey, EnvVar: "DOCKER_LOGIN_USER"}
		},
		value: func(c *Config) *pulumi.StringOutput { return c.DockerHubUser }},
	{Key: "dockerHubPassword", needed: func(c *Config) bool { return c.DockerHubLogin },
		why:   "is needed while dockerHubLogin is true, its default (safe builds log in to Docker Hub to push and pull the ci-* images); or set dockerHubLogin to false",
		Owner: "whoever holds the company password manager", Source: "that account's password or access token",
		place: func(string) SecretPlace {
			return SecretPlace{Name: agent.DockerPasswordKey, Object: agent.DockerPasswordKey}
		},
		value: func(c *Config) *pulumi.StringOutput { return c.DockerHubPassword }},
	{Key: "webhookSecret", needed: (*Config).hasWebhooks,
		why:   "is needed to sign the configured webhooks",
		Owner: "whoever runs the deployer the webhooks call", Source: "the secret the deployer checks the webhooks' signatures with",
		place: func(string) SecretPlace { return SecretPlace{Name: "webhooks"} },
		value: func(c *Config) *pulumi.StringOutput { return c.WebhookSecret }},
}

// hasWebhooks tells whether any repository declares a webhook.
func (c *Config) hasWebhooks() bool {
	for _, r := range c.Repositories {
		if len(r.Webhooks) > 0 {
			return true
		}
	}
	return false
}

// secretSpecOf is the row of key.
func secretSpecOf(key string) secretSpec {
	for _, s := range secretTable {
		if s.Key == key {
			return s
		}
	}
	panic("stacks: no secret " + key + " in secretTable") // a defect of this package: every caller names a row
}

// SecretInfo is a row of the table as cmd/plan -secrets prints it for the
// scripts: the key, whether this stack's config needs it, who holds it and
// where a new one comes from.
type SecretInfo struct {
	Key    string `json:"key"`
	Needed bool   `json:"needed"`
	Owner  string `json:"owner"`
	Source string `json:"source"`
}

// Secrets is the whole table, for this config.
func (c *Config) Secrets() []SecretInfo {
	var out []SecretInfo
	for _, s := range secretTable {
		out = append(out, SecretInfo{Key: s.Key, Needed: s.needed(c), Owner: s.Owner, Source: s.Source})
	}
	return out
}

// storedInPlainText is the one refusal of a secret whose value is in a
// stack file unencrypted, whichever stack: hint is how to set it instead.
func storedInPlainText(hint string) error {
	return fmt.Errorf("is stored in plain text in the stack file; remove it and run `%s`", hint)
}
