package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
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

	// AgentStacks are the four agent stacks, as one typed object whose
	// unset fields keep their defaults (agentstacks.go).
	AgentStacks AgentStacks `config:"agentStacks"`
	// DriftSchedule is when the deploy pipeline's scheduled build checks
	// for drift (Buildkite's cronline, UTC; empty: no schedule).
	DriftSchedule string `config:"driftSchedule"`

	// DeployClusterID is the Buildkite cluster the deploy agents
	// (agentStacks.deploy) join with their own agent token; the roles trust
	// that cluster's ID, which Buildkite's server sets (empty: the roles
	// trust no token until it is set).
	DeployClusterID string `config:"deployClusterId"`
	// StateBackendURL is the stacks' S3 state backend (the
	// PULUMI_BACKEND_URL of operators and the pipelines): the preview role
	// may read the main stacks' state there, and the deploy role write it.
	StateBackendURL string `config:"stateBackendUrl"`

	GitHubOrg              string             `config:"github:owner"`
	ManageGitHub           bool               `config:"manageGitHub"`
	GitHubAPIURL           string             `config:"githubApiUrl"`
	TrustedTeamName        string             `config:"trustedTeamName"`
	TrustedTeamMembers     []string           `config:"trustedTeamMembers"`
	TrustedTeamMaintainers []string           `config:"trustedTeamMaintainers"`
	ForkBuildsFromTeam     bool               `config:"forkBuildsFromTeam"`
	Repositories           []RepositoryConfig `config:"repositories"`
	AdoptGuardrails        bool               `config:"adoptGuardrails"`

	BuildkiteOrg string `config:"buildkiteOrg"`
	// CIPipeline is this repository's pipeline in the default cluster:
	// tests and the offline plan of every build, no credentials.
	// CIDeployPipeline is its pipeline in the deploy cluster, which alone
	// previews and deploys, on pushes to CIDeployBranch.
	CIPipeline       string `config:"ciPipeline"`
	CIDeployPipeline string `config:"ciDeployPipeline"`
	CIDeployBranch   string `config:"ciDeployBranch"`
	// PublishPipeline is the deploy cluster's pipeline that publishes the
	// main repository's release tarballs to the downloads bucket: it builds
	// this repository's CIDeployBranch, and only ReleasePipeline (the main
	// repository's, also in the deploy cluster, building PublishBranch on
	// the deploy agents) triggers it. Empty PublishPipeline: no publish role.
	PublishPipeline   string `config:"publishPipeline"`
	ReleasePipeline   string `config:"releasePipeline"`
	PublishBranch     string `config:"publishBranch"`
	ReleaseRepository string `config:"releaseRepository"`
	// CIRepository is this repository, owner/name: what its pipelines build.
	CIRepository string `config:"ciRepository"`
	// ManageOIDCProvider is false for a stack beside another in one
	// account: an account holds one OIDC provider per issuer.
	ManageOIDCProvider bool     `config:"manageOidcProvider"`
	Adopt              AdoptIDs `config:"adopt"`

	// SeparateSecrets keeps every secret value out of this stack, its
	// config and its state: the stack of the same name of the project
	// ci-infra-secrets (secrets/) writes the agent tokens and the secrets
	// bucket's secret objects, which it finds through this stack's
	// secretsNeeded output. Every pull request previews this stack with no
	// key. False: the secrets below live here (the layout before issue 20).
	SeparateSecrets bool `config:"separateSecrets"`

	// The secrets. Each is nil when unset: Validate says which a layout
	// needs, and which it refuses.
	BuildkiteAgentToken *pulumi.StringOutput `config:"buildkiteAgentToken,secret"`
	// BuildkiteDeployAgentToken is the deploy cluster's agent token: only
	// the deploy agents' stack reads it.
	BuildkiteDeployAgentToken *pulumi.StringOutput `config:"buildkiteDeployAgentToken,secret"`
	AgentSSHPrivateKey        *pulumi.StringOutput `config:"agentSshPrivateKey,secret"`
	BuildSafetyGitHubToken    *pulumi.StringOutput `config:"buildSafetyGithubToken,secret"`
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
			var keyed *ConfigError
			if errors.As(err, &keyed) {
				problems = append(problems, keyed.Problems...)
				continue
			}
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
	if raw, _ := ctx.GetConfig(githubTokenKey); raw != "" && c.SeparateSecrets {
		problems = append(problems, fmt.Errorf("%s: is in this stack's config, which holds no secret (%s:separateSecrets is true): run `pulumi config rm %s`, and pass the token as GITHUB_TOKEN to `pulumi up` (a preview needs none)", githubTokenKey, ctx.Project(), githubTokenKey))
	}
	if len(problems) > 0 {
		return nil, configError(problems)
	}
	return &c, nil
}

// githubTokenKey is the GitHub provider's credential in stack config. The
// provider reads GITHUB_TOKEN when it is unset, which is how operators and
// the deploy job pass it.
const githubTokenKey = "github:token"

func readField(ctx *pulumi.Context, f Field, dst reflect.Value) error {
	if f.Secret {
		full := fullKey(ctx, f.Key)
		optional := f.Optional
		if raw, _ := ctx.GetConfig(full); raw == "" && optional {
			return nil // unset, or Pulumi.yaml's empty default
		}
		if raw, ok := ctx.GetConfig(full); ok && raw != "" && !ctx.IsConfigSecret(full) {
			return storedInPlainText(setHint(f.Key, true))
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
	case AgentStacks:
		// Decoded onto the defaults: a stack sets only the fields it
		// changes. Each problem names its own path; what could not be read
		// keeps its default, so that validation reports the rest once.
		raw, _ := ctx.GetConfig(fullKey(ctx, f.Key))
		stacks, err := ParseAgentStacks(fullKey(ctx, f.Key), raw)
		dst.Set(reflect.ValueOf(stacks))
		return err
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
