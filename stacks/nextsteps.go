package stacks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"golang.org/x/crypto/ssh"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/ciaccess"
)

// nextSteps tells the operator, after `pulumi up`, what the program cannot
// do itself: hand the public half of the agents' key to GitHub and
// mtrlz.dev, give the pipeline its role ARNs, and check that agents came up.
func nextSteps(stack string, cfg *Config, access *ciaccess.Access, site *bucket.Site) pulumi.StringArrayOutput {
	// The public half of a private key is not a secret.
	publicKey := pulumi.String("(the output agentSshPublicKey of the ci-infra-secrets stack: pulumi -C secrets stack output agentSshPublicKey)").ToStringOutput()
	if !cfg.SeparateSecrets {
		publicKey = pulumi.Unsecret(cfg.secretValue("agentSshPrivateKey")).ApplyT(func(v any) string {
			private, _ := v.(string)
			return sshPublicKey(private)
		}).(pulumi.StringOutput)
	}
	return pulumi.All(publicKey, access.PreviewRoleArn, access.DeployRoleArn, site.ValidationRecord, site.URL, access.PublishRoleArn).ApplyT(func(v []any) []string {
		steps := []string{
			fmt.Sprintf("Add the agents' SSH public key to the materializer GitHub user and to the buildkite user's authorized_keys on mtrlz.dev: %s", v[0]),
			fmt.Sprintf("For the Buildkite pipeline %s/%s: make the Buildkite team %s, whose members alone may unblock a deploy, and the deploy cluster's secrets %s, readable by that pipeline on %s only; its steps' signed env carries its roles (%s, %s), written in by scripts/sign-steps",
				cfg.BuildkiteOrg, cfg.CIDeployPipeline, agent.DeployApprovers, strings.Join(agent.DeploySecrets, " and "), cfg.CIDeployBranch, v[1], v[2]),
			fmt.Sprintf("In the Buildkite pipeline %s/%s, which previews every pull request the gate lets run, set CI_INFRA_PREVIEW_ROLE_ARN=%s and PULUMI_BACKEND_URL (an S3 backend the preview role may read; docs/pipelines-and-roles.md), and no key: this stack's passphrase is empty", cfg.BuildkiteOrg, cfg.CIPipeline, v[1]),
			fmt.Sprintf("Check that agents registered on the queues %q and %q: https://buildkite.com/organizations/%s/agents", cfg.AgentStacks.Test.Queue, cfg.AgentStacks.Builders.Queue, cfg.BuildkiteOrg),
			deployClusterStep(cfg),
			fmt.Sprintf("Make the Buildkite settings of the stack's buildkiteSettings output: the pipeline %s in the default cluster (pull requests and forks on, fork branches prefixed, its steps upload .buildkite/pipeline.yml on %q); %s in the deploy cluster (pushes to %s only, pull requests off), whose steps are .buildkite/deploy.yml signed from a laptop with scripts/sign-steps (the key: output deploySigningKeyId); then check them all with BUILDKITE_API_TOKEN=... go run ./cmd/buildkite-check -stack %s (docs/pipelines-and-roles.md, \"Signed pipelines\")",
				cfg.CIPipeline, cfg.AgentStacks.Test.Queue, cfg.CIDeployPipeline, cfg.CIDeployBranch, stack),
		}
		if cfg.PublishPipeline != "" {
			steps = append(steps, fmt.Sprintf("The release path: create %s in the deploy cluster, building this repository with builds by triggers only, its steps .buildkite/publish.yml signed with scripts/sign-steps, which writes its role (%s) and bucket (%s) into their signed env; create %s (the main repository's release) in the deploy cluster too, so that no default job can take its jobs: pushes to %s only, pull requests off, its steps (which run no plugin: the deploy agents allow none) signed with scripts/sign-steps, and a trigger step for %s; add the cluster rules %s -> %s (trigger_build) and %s -> %s (artifacts_read)",
				cfg.PublishPipeline, v[5], cfg.DownloadsBucketName, cfg.ReleasePipeline, cfg.PublishBranch, cfg.PublishPipeline,
				cfg.ReleasePipeline, cfg.PublishPipeline, cfg.PublishPipeline, cfg.ReleasePipeline))
		}
		// Without the public zone's ID the program cannot write mtrlz.dev:
		// the certificate, then the alias, take an operator's hand.
		if cfg.DownloadsDomain != "" && cfg.PublicZoneID == "" {
			if !cfg.DownloadsCertificateIssued {
				steps = append(steps, fmt.Sprintf("In the public zone of %s, add the certificate's validation record %s; once ACM has issued the certificate, set ci-infra:downloadsCertificateIssued to true and run pulumi up again to serve %s", cfg.DownloadsDomain, v[3], cfg.DownloadsDomain))
			} else {
				steps = append(steps, fmt.Sprintf("Point %s at the distribution: a CNAME (or an alias) to the host of %s", cfg.DownloadsDomain, v[4]))
			}
		}
		return steps
	}).(pulumi.StringArrayOutput)
}

// deployClusterStep says what the CI roles' trust needs from Buildkite: a
// cluster of the deploy agents' own.
func deployClusterStep(cfg *Config) string {
	if cfg.DeployClusterID == "" {
		return fmt.Sprintf("The CI roles trust no token yet: in Buildkite (Agents), create a cluster for the deploy agents with the queue %q and an agent token; set ci-infra:deployClusterId to its ID and buildkiteDeployAgentToken (--secret, in the secrets stack: pulumi -C secrets config set --secret buildkiteDeployAgentToken) to the token; create the pipeline %s/%s in it; then pulumi up (docs/pipelines-and-roles.md)", cfg.AgentStacks.Deploy.Queue, cfg.BuildkiteOrg, cfg.CIDeployPipeline)
	}
	return fmt.Sprintf("Check that the pipeline %s/%s lives in the deploy cluster %s, which alone has the queue %q (go run ./cmd/buildkite-check checks it; docs/pipelines-and-roles.md)", cfg.BuildkiteOrg, cfg.CIDeployPipeline, cfg.DeployClusterID, cfg.AgentStacks.Deploy.Queue)
}

// sshPublicKey derives the authorized_keys line of an unencrypted private
// key, or says why it cannot (never echoing the key).
func sshPublicKey(private string) string {
	signer, err := ssh.ParsePrivateKey([]byte(private))
	if err != nil {
		return "(not derivable: agentSshPrivateKey is not an unencrypted OpenSSH or PEM private key; run ssh-keygen -y -f <key>)"
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
}
