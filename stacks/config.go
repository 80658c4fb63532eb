package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/components/agentpolicy"
	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/ciaccess"
	"mtrlz.dev/ci-infra/components/githubid"
	"mtrlz.dev/ci-infra/components/guardrails"
	"mtrlz.dev/ci-infra/components/network"
	"mtrlz.dev/ci-infra/components/team"
	"mtrlz.dev/ci-infra/components/zone"
	"mtrlz.dev/ci-infra/internal/cost"
)

// Config is the whole stack configuration, read once. The `config` tag is
// the key: without a namespace it belongs to the project (ci-infra:KEY) and
// is declared with its type, default and description in Pulumi.yaml (a test
// keeps both in step); ",secret" marks keys that must be set with
// `pulumi config set --secret`.
type Config struct {
	Region string `config:"aws:region"`

	BucketSuffix                   string `config:"bucketSuffix"`
	AgentPolicyName                string `config:"agentPolicyName"`
	InternalZoneName               string `config:"internalZoneName"`
	DownloadsBucketName            string `config:"downloadsBucketName"`
	DownloadsNoncurrentVersionDays int    `config:"downloadsNoncurrentVersionDays"`
	// https://DownloadsDomain serves the downloads bucket through CloudFront.
	DownloadsDomain            string   `config:"downloadsDomain"`
	PublicZoneID               string   `config:"publicZoneId"`
	DownloadsCertificateIssued bool     `config:"downloadsCertificateIssued"`
	VpcCIDR                    string   `config:"vpcCidr"`
	AvailabilityZones          []string `config:"availabilityZones"`
	ElasticStackVersion        string   `config:"elasticStackVersion"`
	AgentKeyName               string   `config:"agentKeyName"`

	AgentsStackName          string   `config:"agentsStackName"`
	AgentsQueue              string   `config:"agentsQueue"`
	AgentsMinSize            int      `config:"agentsMinSize"`
	AgentsMaxSize            int      `config:"agentsMaxSize"`
	AgentsInstanceTypes      []string `config:"agentsInstanceTypes"`
	AgentsScaleInIdleSeconds int      `config:"agentsScaleInIdleSeconds"`
	AgentsOnDemandPercentage int      `config:"agentsOnDemandPercentage"`

	BuildersStackName          string   `config:"buildersStackName"`
	BuildersBurstStackName     string   `config:"buildersBurstStackName"`
	BuildersQueue              string   `config:"buildersQueue"`
	BuildersMinSize            int      `config:"buildersMinSize"`
	BuildersMaxSize            int      `config:"buildersMaxSize"`
	BuildersInstanceTypes      []string `config:"buildersInstanceTypes"`
	BuildersOnDemandPercentage int      `config:"buildersOnDemandPercentage"`

	// The deploy agents: the only agents the CI roles trust, running only
	// their allow-list.
	DeployStackName string `config:"deployStackName"`
	DeployQueue     string `config:"deployQueue"`

	GitHubOrg              string             `config:"github:owner"`
	ManageGitHub           bool               `config:"manageGitHub"`
	GitHubAPIURL           string             `config:"githubApiUrl"`
	TrustedTeamName        string             `config:"trustedTeamName"`
	TrustedTeamMembers     []string           `config:"trustedTeamMembers"`
	TrustedTeamMaintainers []string           `config:"trustedTeamMaintainers"`
	ForkBuildsFromTeam     bool               `config:"forkBuildsFromTeam"`
	Repositories           []RepositoryConfig `config:"repositories"`
	AdoptGuardrails        bool               `config:"adoptGuardrails"`

	BuildkiteOrg   string `config:"buildkiteOrg"`
	CIPipeline     string `config:"ciPipeline"`
	CIDeployBranch string `config:"ciDeployBranch"`
	// PublishPipeline and PublishBranch name the main repository's pipeline
	// that publishes release tarballs to the downloads bucket, and the
	// branch it publishes from; empty PublishPipeline: no publish role.
	PublishPipeline string `config:"publishPipeline"`
	PublishBranch   string `config:"publishBranch"`
	// ManageOIDCProvider is false for a stack beside another in one
	// account: an account holds one OIDC provider per issuer.
	ManageOIDCProvider bool     `config:"manageOidcProvider"`
	Adopt              AdoptIDs `config:"adopt"`

	BuildkiteAgentToken pulumi.StringOutput `config:"buildkiteAgentToken,secret"`
	AgentSSHPrivateKey  pulumi.StringOutput `config:"agentSshPrivateKey,secret"`
	// Optional secrets are nil when unset; Validate says when one is needed.
	BuildSafetyGitHubToken *pulumi.StringOutput `config:"buildSafetyGithubToken,secret"`
	// Docker Hub: the builders push ci-* images there and every pipeline
	// pulls them (the seed); safe builds log in.
	DockerHubLogin    bool                 `config:"dockerHubLogin"`
	DockerHubUser     *pulumi.StringOutput `config:"dockerHubUser,secret"`
	DockerHubPassword *pulumi.StringOutput `config:"dockerHubPassword,secret"`
	WebhookSecret     *pulumi.StringOutput `config:"webhookSecret,secret"`
}

// RepositoryConfig is one entry of the `repositories` list: the guardrails
// of one repository of the GitHub organisation.
type RepositoryConfig struct {
	Name              string          `json:"name"`
	DefaultBranch     string          `json:"defaultBranch"`
	RequiredChecks    []string        `json:"requiredChecks"`
	RequiredApprovals int             `json:"requiredApprovals,omitempty"`
	DeployBranch      string          `json:"deployBranch,omitempty"`
	DeployPushers     []string        `json:"deployPushers,omitempty"`
	Webhooks          []WebhookConfig `json:"webhooks,omitempty"`
}

// WebhookConfig is one webhook of a repository. Every webhook is signed with
// the webhookSecret config value.
type WebhookConfig struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// Field describes one config key of Config.
type Field struct {
	Key    string // as written in the tag: "bucketSuffix", "aws:region"
	Secret bool
	// Optional secrets are needed only by some configurations (a nil
	// pointer when unset). Pulumi.yaml declares every secret with an empty
	// default and without `secret: true`: the CLI requires every declared
	// key that has no default, and refuses a default for a secret one
	// (pkg/workspace/config.go, mergeConfig and validateStackConfigValue),
	// before the program could name the rest. The program refuses an empty
	// or plaintext value of a secret it needs.
	Optional bool
	index    int
}

// Fields lists the config keys of Config in declaration order.
func Fields() []Field {
	t := reflect.TypeOf(Config{})
	var fields []Field
	for i := range t.NumField() {
		tag, ok := t.Field(i).Tag.Lookup("config")
		if !ok {
			continue
		}
		key, opt, _ := strings.Cut(tag, ",")
		optional := t.Field(i).Type.Kind() == reflect.Pointer
		fields = append(fields, Field{Key: key, Secret: opt == "secret", Optional: optional, index: i})
	}
	return fields
}

// fullKey is the key as the CLI shows it: "ci-infra:bucketSuffix".
func fullKey(ctx *pulumi.Context, key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return ctx.Project() + ":" + key
}

// setHint is how an operator sets a key.
func setHint(key string, secret bool) string {
	if secret {
		return fmt.Sprintf("pulumi config set --secret %s <value>", key)
	}
	return fmt.Sprintf("pulumi config set %s <value>", key)
}

// LoadConfig reads every key of Config with the SDK's Try readers and then
// validates the whole. keys, when given, are all the keys the stack sets;
// those of the project's namespace that Config does not read are refused.
// Every problem is reported at once, each naming its full key, before any
// resource is registered.
func LoadConfig(ctx *pulumi.Context, keys []string) (*Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	problems := UndeclaredKeys(ctx.Project(), keys)
	unreadable := map[string]bool{}
	for _, f := range Fields() {
		full := fullKey(ctx, f.Key)
		if err := readField(ctx, f, v.Field(f.index)); err != nil {
			if errors.Is(err, config.ErrMissingVar) {
				err = fmt.Errorf("not set; run `%s`", setHint(f.Key, f.Secret))
			}
			problems = append(problems, fmt.Errorf("%s: %w", full, err))
			unreadable[full] = true
		}
	}
	// Validate the rest too, so that one run reports everything; a key that
	// could not be read is reported once, as such.
	var verr *ConfigError
	if errors.As(c.Validate(ctx.Project()), &verr) {
		for _, p := range verr.Problems {
			key, _, _ := strings.Cut(p.Error(), ": ")
			if !unreadable[key] {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) > 0 {
		return nil, configError(problems)
	}
	return &c, nil
}

func readField(ctx *pulumi.Context, f Field, dst reflect.Value) error {
	if f.Secret {
		full := fullKey(ctx, f.Key)
		optional := f.Optional
		if raw, _ := ctx.GetConfig(full); raw == "" && optional {
			return nil // unset, or Pulumi.yaml's empty default
		}
		if raw, ok := ctx.GetConfig(full); ok && raw != "" && !ctx.IsConfigSecret(full) {
			return fmt.Errorf("is stored in plain text in the stack file; remove it and run `%s`", setHint(f.Key, true))
		}
		if raw, _ := ctx.GetConfig(full); strings.TrimSpace(raw) == "" {
			return fmt.Errorf("not set; run `%s`", setHint(f.Key, true))
		}
		out, err := config.TrySecret(ctx, f.Key)
		if err != nil {
			return err
		}
		if optional {
			dst.Set(reflect.ValueOf(&out))
		} else {
			dst.Set(reflect.ValueOf(out))
		}
		return nil
	}
	switch dst.Interface().(type) {
	case string:
		s, err := config.Try(ctx, f.Key)
		if err != nil {
			return err
		}
		dst.SetString(s)
	case int:
		raw, err := config.Try(ctx, f.Key)
		if err != nil {
			return err
		}
		n, err := config.TryInt(ctx, f.Key)
		if err != nil {
			return fmt.Errorf("must be a whole number, got %q", raw)
		}
		dst.SetInt(int64(n))
	case bool:
		raw, err := config.Try(ctx, f.Key)
		if err != nil {
			return err
		}
		if raw != "true" && raw != "false" {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		b, err := config.TryBool(ctx, f.Key)
		if err != nil {
			return err
		}
		dst.SetBool(b)
	case []string:
		raw, err := config.Try(ctx, f.Key)
		if err != nil {
			return err
		}
		var list []string
		if err := config.TryObject(ctx, f.Key, &list); err != nil {
			return fmt.Errorf("must be a list of strings such as [\"a\", \"b\"], got %s", raw)
		}
		dst.Set(reflect.ValueOf(list))
	default:
		// Structured values (lists of objects) are decoded strictly, so a
		// misspelt field is an error rather than silently ignored.
		raw, err := config.Try(ctx, f.Key)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		v := reflect.New(dst.Type())
		if err := dec.Decode(v.Interface()); err != nil {
			return fmt.Errorf("is malformed: %v", err)
		}
		dst.Set(v.Elem())
	}
	return nil
}

// ConfigError lists every config problem found.
type ConfigError struct{ Problems []error }

func configError(errs []error) error { return &ConfigError{Problems: errs} }

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  - " + p.Error()
	}
	return fmt.Sprintf("invalid stack configuration (%d problems):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

func (e *ConfigError) Unwrap() []error { return e.Problems }

var (
	regionPattern       = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
	bucketSuffixPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	queuePattern        = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,100}$`)
)

// Names of the buckets derived from the suffix. The seed's buckets are
// "buildkite-config-<SECRETNAME>" and "buildkite-managedsecrets"; both take
// the suffix so that S3's global namespace cannot collide with, or reveal,
// another account's.
func (c *Config) ConfigBucketName() string  { return "buildkite-config-" + c.BucketSuffix }
func (c *Config) SecretsBucketName() string { return "buildkite-managedsecrets-" + c.BucketSuffix }
func (c *Config) SecretsLogBucketName() string {
	return "buildkite-managedsecrets-logs-" + c.BucketSuffix
}

// Zones returns the availability zones of the agents: the configured ones,
// or the region's "a" and "b" zones.
func (c *Config) Zones() []string {
	if len(c.AvailabilityZones) > 0 {
		return c.AvailabilityZones
	}
	return []string{c.Region + "a", c.Region + "b"}
}

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

	if !regionPattern.MatchString(c.Region) {
		bad("aws:region", "%q is not an AWS region such as us-east-1", c.Region)
	} else if !slices.Contains(cost.Regions(), c.Region) {
		bad("aws:region", "%q has no prices in internal/cost/prices.csv (have %s); add them to use it", c.Region, strings.Join(cost.Regions(), ", "))
	}

	switch {
	case !bucketSuffixPattern.MatchString(c.BucketSuffix):
		bad("bucketSuffix", "%q must be lowercase letters, digits and inner hyphens: no capitals (S3 refuses them) and no dots (a dotted bucket name breaks TLS for virtual-hosted S3 requests, which is how the agents fetch)", c.BucketSuffix)
	default:
		for _, name := range []string{c.ConfigBucketName(), c.SecretsBucketName(), c.SecretsLogBucketName()} {
			if err := bucket.ValidateName(name); err != nil {
				bad("bucketSuffix", "%v", err)
			}
		}
	}

	if err := agentpolicy.ValidateName(c.AgentPolicyName); err != nil {
		bad("agentPolicyName", "%v", err)
	}
	if err := zone.ValidateDomain(c.InternalZoneName); err != nil {
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

	c.validateStack(bad, "agents", c.AgentsStackName, c.AgentsQueue, c.AgentsMinSize, c.AgentsMaxSize, c.AgentsInstanceTypes)
	c.validateStack(bad, "builders", c.BuildersStackName, c.BuildersQueue, c.BuildersMinSize, c.BuildersMaxSize, c.BuildersInstanceTypes)
	if c.AgentsScaleInIdleSeconds < 60 {
		bad("agentsScaleInIdleSeconds", "must be at least 60 seconds (0 would keep idle test agents forever), got %d", c.AgentsScaleInIdleSeconds)
	}
	for key, pct := range map[string]int{"agentsOnDemandPercentage": c.AgentsOnDemandPercentage, "buildersOnDemandPercentage": c.BuildersOnDemandPercentage} {
		if pct < 0 || pct > 100 {
			bad(key, "must be a percentage from 0 to 100, got %d", pct)
		}
	}
	if c.BuildersMinSize < 1 {
		bad("buildersMinSize", "must be at least 1: the builders exist to keep a warm build cache, got %d", c.BuildersMinSize)
	}
	if c.AgentsStackName == c.BuildersStackName {
		bad("buildersStackName", "%q is also agentsStackName; the two stacks need different names", c.BuildersStackName)
	}
	if c.AgentsQueue == c.BuildersQueue {
		bad("buildersQueue", "%q is also agentsQueue; pipelines pick builders by queue, so the queues must differ", c.BuildersQueue)
	}
	if err := (agentstack.Args{StackName: c.BuildersBurstStackName}).ValidateStackName(); err != nil {
		bad("buildersBurstStackName", "%v", err)
	} else if c.BuildersBurstStackName == c.AgentsStackName || c.BuildersBurstStackName == c.BuildersStackName || c.BuildersBurstStackName == c.DeployStackName {
		bad("buildersBurstStackName", "%q is also the name of another agent stack", c.BuildersBurstStackName)
	}
	if err := (agentstack.Args{StackName: c.DeployStackName}).ValidateStackName(); err != nil {
		bad("deployStackName", "%v", err)
	} else if c.DeployStackName == c.AgentsStackName || c.DeployStackName == c.BuildersStackName {
		bad("deployStackName", "%q is also the name of another agent stack", c.DeployStackName)
	}
	if !queuePattern.MatchString(c.DeployQueue) {
		bad("deployQueue", "%q must be 1-100 letters, digits, dots, hyphens or underscores", c.DeployQueue)
	} else if c.DeployQueue == c.AgentsQueue || c.DeployQueue == c.BuildersQueue {
		bad("deployQueue", "%q is also the queue of another stack: the CI roles trust this queue alone, so no other agent may serve it", c.DeployQueue)
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
		if c.PublishPipeline == c.CIPipeline {
			bad("publishPipeline", "%q is this repository's own pipeline; the publish role is for the main repository's", c.PublishPipeline)
		}
	}
	for key, err := range map[string]error{
		"buildkiteOrg":   ciaccess.ValidateSlug("organization", c.BuildkiteOrg),
		"ciPipeline":     ciaccess.ValidateSlug("pipeline", c.CIPipeline),
		"ciDeployBranch": ciaccess.ValidateBranch(c.CIDeployBranch),
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

func (c *Config) validateGitHub(bad func(key, format string, args ...any)) {
	if !githubid.IsLogin(c.GitHubOrg) {
		bad("github:owner", "%q is not a GitHub organisation login (%s)", c.GitHubOrg, githubid.LoginRule)
	}
	if !githubid.IsTeamSlug(c.TrustedTeamName) {
		bad("trustedTeamName", "%q must be a team slug: lowercase letters, digits, hyphens, underscores", c.TrustedTeamName)
	}
	if err := agent.ValidateAPIURL(c.GitHubAPIURL); err != nil {
		bad("githubApiUrl", "%v", err)
	}
	memberErrs, maintainerErrs := team.ValidateMembers(c.TrustedTeamMembers, c.TrustedTeamMaintainers)
	for _, err := range memberErrs {
		bad("trustedTeamMembers", "%v", err)
	}
	for _, err := range maintainerErrs {
		bad("trustedTeamMaintainers", "%v", err)
	}
	// An empty team is safe: the gate asks GitHub, and nobody is a member.
	if c.ForkBuildsFromTeam && c.BuildSafetyGitHubToken == nil {
		bad("buildSafetyGithubToken", "is needed when forkBuildsFromTeam is true, its default (a read-only token that can read %s's team memberships); run `%s`, or set forkBuildsFromTeam to false to refuse every fork build", c.GitHubOrg, setHint("buildSafetyGithubToken", true))
	}

	seen := map[string]bool{}
	webhooks := false
	for i, r := range c.Repositories {
		key := fmt.Sprintf("repositories[%d]", i)
		name := strings.ToLower(r.Name)
		if seen[name] {
			bad("repositories", "%q is listed twice", r.Name)
		}
		seen[name] = true
		webhooks = webhooks || len(r.Webhooks) > 0
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
	if c.DockerHubLogin {
		for key, v := range map[string]*pulumi.StringOutput{"dockerHubUser": c.DockerHubUser, "dockerHubPassword": c.DockerHubPassword} {
			if v == nil {
				bad(key, "is needed while dockerHubLogin is true, its default (safe builds log in to Docker Hub to push and pull the ci-* images); run `%s`, or set dockerHubLogin to false", setHint(key, true))
			}
		}
	}
	if webhooks && c.WebhookSecret == nil {
		bad("webhookSecret", "is needed to sign the configured webhooks; run `%s`", setHint("webhookSecret", true))
	}
}

// guardrails turns a repository's config into the component's Args.
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
	for _, w := range r.Webhooks {
		args.Webhooks = append(args.Webhooks, guardrails.Webhook{URL: w.URL, Events: w.Events, Secret: webhookSecret})
	}
	return args
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

func (c *Config) validateStack(bad func(key, format string, args ...any), role, stackName, queue string, minSize, maxSize int, types []string) {
	if err := (agentstack.Args{StackName: stackName}).ValidateStackName(); err != nil {
		bad(role+"StackName", "%v", err)
	}
	if !queuePattern.MatchString(queue) {
		bad(role+"Queue", "%q must be 1-100 letters, digits, dots, hyphens or underscores", queue)
	}
	if minSize < 0 {
		bad(role+"MinSize", "must be >= 0, got %d", minSize)
	}
	if maxSize < 1 {
		bad(role+"MaxSize", "must be >= 1, got %d", maxSize)
	}
	if minSize > maxSize {
		bad(role+"MaxSize", "must be >= %sMinSize (%d), got %d", role, minSize, maxSize)
	}
	if len(types) == 0 || len(types) > 25 {
		bad(role+"InstanceTypes", "needs 1 to 25 instance types, got %d", len(types))
	}
	seen := map[string]bool{}
	for _, t := range types {
		if seen[t] {
			bad(role+"InstanceTypes", "%q is listed twice", t)
		}
		seen[t] = true
		if _, err := cost.HourlyPrice(c.Region, t); err != nil && slices.Contains(cost.Regions(), c.Region) {
			bad(role+"InstanceTypes", "%v", err)
		}
	}
}
