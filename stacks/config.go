package stacks

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"mtrlz.dev/ci-infra/components/agentpolicy"
	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/network"
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

	BucketSuffix                   string   `config:"bucketSuffix"`
	AgentPolicyName                string   `config:"agentPolicyName"`
	InternalZoneName               string   `config:"internalZoneName"`
	DownloadsBucketName            string   `config:"downloadsBucketName"`
	DownloadsNoncurrentVersionDays int      `config:"downloadsNoncurrentVersionDays"`
	VpcCIDR                        string   `config:"vpcCidr"`
	AvailabilityZones              []string `config:"availabilityZones"`
	ElasticStackVersion            string   `config:"elasticStackVersion"`
	AgentKeyName                   string   `config:"agentKeyName"`

	AgentsStackName          string   `config:"agentsStackName"`
	AgentsQueue              string   `config:"agentsQueue"`
	AgentsMinSize            int      `config:"agentsMinSize"`
	AgentsMaxSize            int      `config:"agentsMaxSize"`
	AgentsInstanceTypes      []string `config:"agentsInstanceTypes"`
	AgentsScaleInIdleSeconds int      `config:"agentsScaleInIdleSeconds"`

	BuildersStackName     string   `config:"buildersStackName"`
	BuildersQueue         string   `config:"buildersQueue"`
	BuildersMinSize       int      `config:"buildersMinSize"`
	BuildersMaxSize       int      `config:"buildersMaxSize"`
	BuildersInstanceTypes []string `config:"buildersInstanceTypes"`

	BuildkiteAgentToken pulumi.StringOutput `config:"buildkiteAgentToken,secret"`
	AgentSSHPrivateKey  pulumi.StringOutput `config:"agentSshPrivateKey,secret"`
}

// Field describes one config key of Config.
type Field struct {
	Key    string // as written in the tag: "bucketSuffix", "aws:region"
	Secret bool
	index  int
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
		fields = append(fields, Field{Key: key, Secret: opt == "secret", index: i})
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
// validates the whole. Every problem is reported at once, each naming its
// full key, before any resource is registered.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	var errs []error
	for _, f := range Fields() {
		full := fullKey(ctx, f.Key)
		if err := readField(ctx, f, v.Field(f.index)); err != nil {
			if errors.Is(err, config.ErrMissingVar) {
				err = fmt.Errorf("not set; run `%s`", setHint(f.Key, f.Secret))
			}
			errs = append(errs, fmt.Errorf("%s: %w", full, err))
		}
	}
	if len(errs) > 0 {
		return nil, configError(errs)
	}
	if err := c.Validate(ctx.Project()); err != nil {
		return nil, err
	}
	return &c, nil
}

func readField(ctx *pulumi.Context, f Field, dst reflect.Value) error {
	if f.Secret {
		full := fullKey(ctx, f.Key)
		if raw, ok := ctx.GetConfig(full); ok && raw != "" && !ctx.IsConfigSecret(full) {
			return fmt.Errorf("is stored in plain text in the stack file; remove it and run `%s`", setHint(f.Key, true))
		}
		if raw, ok := ctx.GetConfig(full); ok && strings.TrimSpace(raw) == "" {
			return fmt.Errorf("is empty; run `%s`", setHint(f.Key, true))
		}
		out, err := config.TrySecret(ctx, f.Key)
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(out))
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
		return fmt.Errorf("config field of unsupported type %s", dst.Type())
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
	if c.BuildersMinSize < 1 {
		bad("buildersMinSize", "must be at least 1: the builders exist to keep a warm build cache, got %d", c.BuildersMinSize)
	}
	if c.AgentsStackName == c.BuildersStackName {
		bad("buildersStackName", "%q is also agentsStackName; the two stacks need different names", c.BuildersStackName)
	}
	if c.AgentsQueue == c.BuildersQueue {
		bad("buildersQueue", "%q is also agentsQueue; pipelines pick builders by queue, so the queues must differ", c.BuildersQueue)
	}

	if len(errs) > 0 {
		return configError(errs)
	}
	return nil
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
