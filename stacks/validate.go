package stacks

// Validation of the whole config: each value, and the relations between
// values, every error naming its full key.

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/ciaccess"
	"mtrlz.dev/ci-infra/components/guardrails"
	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/components/network"
	"mtrlz.dev/ci-infra/internal/cost"
)

var (
	regionPattern       = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
	bucketSuffixPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// Validate checks every value and every relation between values. Each
// error starts with the full key it is about.
func (c *Config) Validate(project string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		if !strings.Contains(key, ":") {
			key = project + ":" + key
		}
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}

	if err := checkRegion(c.Region); err != nil {
		bad("aws:region", "%v", err)
	}
	for _, err := range c.checkBucketSuffix() {
		bad("bucketSuffix", "%v", err)
	}

	if err := agentstack.ValidatePolicyName(c.AgentPolicyName); err != nil {
		bad("agentPolicyName", "%v", err)
	}
	if err := ident.ValidateDomain(c.InternalZoneName); err != nil {
		bad("internalZoneName", "%v", err)
	}
	if err := bucket.ValidateName(c.DownloadsBucketName); err != nil {
		bad("downloadsBucketName", "%v", err)
	}
	if c.DownloadsNoncurrentVersionDays < 1 {
		bad("downloadsNoncurrentVersionDays", "must be at least 1 (days a replaced download is kept), got %d", c.DownloadsNoncurrentVersionDays)
	}
	if err := network.ValidateCIDR(c.VpcCIDR); err != nil {
		bad("vpcCidr", "%v", err)
	}
	if len(c.AvailabilityZones) == 1 {
		bad("availabilityZones", "needs at least two zones (or none, for %sa and %sb)", c.Region, c.Region)
	}
	for _, az := range c.AvailabilityZones {
		if !strings.HasPrefix(az, c.Region) || len(az) != len(c.Region)+1 {
			bad("availabilityZones", "%q is not a zone of %s (such as %sa)", az, c.Region, c.Region)
		}
	}
	contract, err := agentstack.ContractFor(c.ElasticStackVersion)
	if err != nil {
		bad("elasticStackVersion", "%v", err)
	} else if c.AgentKeyName != "" {
		if err := contract.Check("KeyName", c.AgentKeyName); err != nil {
			bad("agentKeyName", "%v", err)
		}
	}

	for _, p := range c.AgentStacks.Validate(c.Region) {
		bad("agentStacks."+p.Path, "%v", p.Err)
	}
	if c.DriftSchedule != "" {
		if _, err := agentstack.ParseCron(c.DriftSchedule, "UTC"); err != nil {
			bad("driftSchedule", "%v (five cron fields in UTC, e.g. \"0 6 * * *\"; empty for no schedule)", err)
		}
	}
	if _, err := ciaccess.ParseStateBackend(c.StateBackendURL); err != nil {
		bad("stateBackendUrl", "%v; or empty when the state is not in S3 (the pipelines' roles then get no grant on it)", err)
	}
	if c.DeployClusterID != "" && !ident.IsClusterID(c.DeployClusterID) {
		bad("deployClusterId", "%q must be %s, or empty while there is no deploy cluster (the CI roles then trust no token)", c.DeployClusterID, ident.ClusterRule)
	}

	c.validateGitHub(bad)
	c.validateAdopt(bad)
	if c.PublishPipeline != "" {
		if err := ciaccess.ValidateSlug("pipeline", c.PublishPipeline); err != nil {
			bad("publishPipeline", "%v", err)
		}
		if err := ciaccess.ValidateBranch(c.PublishBranch); err != nil {
			bad("publishBranch", "%v", err)
		}
		if c.PublishPipeline == c.CIPipeline || c.PublishPipeline == c.CIDeployPipeline {
			bad("publishPipeline", "%q is one of this repository's pipelines; the publish pipeline is one of its own", c.PublishPipeline)
		}
		if err := ciaccess.ValidateSlug("pipeline", c.ReleasePipeline); err != nil {
			bad("releasePipeline", "%v: it names the main repository's pipeline whose builds trigger publishPipeline", err)
		} else if c.ReleasePipeline == c.PublishPipeline {
			bad("releasePipeline", "%q is publishPipeline itself: the release pipeline builds the main repository, the publish pipeline this one", c.ReleasePipeline)
		}
		if !ident.IsRepository(c.ReleaseRepository) {
			bad("releaseRepository", "%q must be a GitHub repository, owner/name (%s)", c.ReleaseRepository, ident.RepositoryRule)
		}
	}
	if !ident.IsRepository(c.CIRepository) {
		bad("ciRepository", "%q must be a GitHub repository, owner/name (%s)", c.CIRepository, ident.RepositoryRule)
	}
	if c.CIDeployPipeline == c.CIPipeline {
		bad("ciDeployPipeline", "%q is also ciPipeline: the deploy pipeline lives in the deploy cluster, the other in the default one; set them to different slugs (defaults ci-infra-deploy and ci-infra)", c.CIDeployPipeline)
	}
	for key, err := range map[string]error{
		"buildkiteOrg":     ciaccess.ValidateSlug("organization", c.BuildkiteOrg),
		"ciPipeline":       ciaccess.ValidateSlug("pipeline", c.CIPipeline),
		"ciDeployPipeline": ciaccess.ValidateSlug("pipeline", c.CIDeployPipeline),
		"ciDeployBranch":   ciaccess.ValidateBranch(c.CIDeployBranch),
	} {
		if err != nil {
			bad(key, "%v", err)
		}
	}

	if len(errs) > 0 {
		return configError(errs)
	}
	return nil
}

// checkRegion is the rule of aws:region: a region, with prices.
func checkRegion(region string) error {
	if !regionPattern.MatchString(region) {
		return fmt.Errorf("%q is not an AWS region such as us-east-1", region)
	}
	if !slices.Contains(cost.Regions(), region) {
		return fmt.Errorf("%q has no prices in internal/cost/prices.csv (have %s); add them to use it", region, strings.Join(cost.Regions(), ", "))
	}
	return nil
}

// checkBucketSuffix is the rule of bucketSuffix: a suffix that makes
// valid names of every bucket it names.
func (c *Config) checkBucketSuffix() []error {
	if !bucketSuffixPattern.MatchString(c.BucketSuffix) {
		return []error{fmt.Errorf("%q must be lowercase letters, digits and inner hyphens: no capitals (S3 refuses them) and no dots (a dotted bucket name breaks TLS for virtual-hosted S3 requests, which is how the agents fetch)", c.BucketSuffix)}
	}
	var errs []error
	for _, name := range []string{c.ConfigBucketName(), c.SecretsBucketName(), c.SecretsLogBucketName()} {
		if err := bucket.ValidateName(name); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (c *Config) validateGitHub(bad func(key, format string, args ...any)) {
	if !ident.IsLogin(c.GitHubOrg) {
		bad("github:owner", "%q is not a GitHub organisation login (%s)", c.GitHubOrg, ident.LoginRule)
	}
	if !ident.IsTeamSlug(c.TrustedTeamName) {
		bad("trustedTeamName", "%q must be a team slug: lowercase letters, digits, hyphens, underscores", c.TrustedTeamName)
	}
	if err := agent.ValidateAPIURL(c.GitHubAPIURL); err != nil {
		bad("githubApiUrl", "%v", err)
	}
	memberErrs, maintainerErrs := guardrails.ValidateMembers(c.TrustedTeamMembers, c.TrustedTeamMaintainers)
	for _, err := range memberErrs {
		bad("trustedTeamMembers", "%v", err)
	}
	for _, err := range maintainerErrs {
		bad("trustedTeamMaintainers", "%v", err)
	}
	seen := map[string]bool{}
	for i, r := range c.Repositories {
		key := fmt.Sprintf("repositories[%d]", i)
		name := strings.ToLower(r.Name)
		if seen[name] {
			bad("repositories", "%q is listed twice", r.Name)
		}
		seen[name] = true
		args := r.guardrails(pulumi.String("validation only"), false)
		if err := args.Validate(); err != nil {
			for _, e := range flatten(err) {
				bad("repositories", "%s (%s): %v", key, r.Name, e)
			}
		}
	}
	if c.AdoptGuardrails && !c.ManageGitHub {
		bad("adoptGuardrails", "is true but manageGitHub is false: a stack that does not manage GitHub adopts nothing there")
	}
	c.validateSecrets(bad)
}

// SecretKeys are the secrets this stack's layout and config need, by key
// (secretTable). With separateSecrets the ci-infra-secrets stack needs
// exactly these (secretsNeeded).
func (c *Config) SecretKeys() []string {
	var keys []string
	for _, s := range secretTable {
		if s.needed(c) {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

// secrets maps each secret key to its value (nil when unset).
func (c *Config) secrets() map[string]*pulumi.StringOutput {
	values := map[string]*pulumi.StringOutput{}
	for _, s := range secretTable {
		values[s.Key] = s.value(c)
	}
	return values
}

// validateSecrets holds each layout to its secrets: with separateSecrets
// none may be set here (a pull request previews this stack; the secrets
// stack declares the webhooks, which carry one); otherwise each one the
// config needs must be set.
func (c *Config) validateSecrets(bad func(key, format string, args ...any)) {
	values := c.secrets()
	if c.SeparateSecrets {
		for _, key := range slices.Sorted(maps.Keys(values)) {
			if values[key] != nil {
				bad(key, "holds a secret, and this stack keeps none (separateSecrets is true): move this stack's secrets with `scripts/split-secrets <stack>` (or set separateSecrets to false until then); a new stack: `pulumi config rm %s` here and `pulumi -C secrets config set --secret %s <value>` on the ci-infra-secrets stack of the same name", key, key)
			}
		}
		return
	}
	for _, key := range c.SecretKeys() {
		if values[key] == nil {
			bad(key, "%s; run `%s`", secretSpecOf(key).why, setHint(key, true))
		}
	}
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}
