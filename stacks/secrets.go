package stacks

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-github/sdk/v6/go/github"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/guardrails"
	"mtrlz.dev/ci-infra/components/label"
)

// SecretPlace is where one secret config value is written: an SSM
// parameter (the agent tokens) or an object of the secrets bucket.
type SecretPlace struct {
	// Key is the secret's config key, e.g. "buildkiteAgentToken".
	Key string `json:"key"`
	// Name is the component's logical name, e.g. "agent-token", or the
	// object's key.
	Name string `json:"name"`
	// Parameter is the SSM parameter's name, for a token.
	Parameter string `json:"parameter,omitempty"`
	// Object is the key of the secrets bucket's object, and EnvVar, when
	// set, makes its content `EnvVar=<quoted value>` (an env file).
	Object string `json:"object,omitempty"`
	EnvVar string `json:"envVar,omitempty"`
}

// SecretsNeeded is what a stack needs written, and where: the main stack
// exports it (output secretsNeeded) when it keeps no secret itself, and
// the ci-infra-secrets stack of the same name writes it.
type SecretsNeeded struct {
	Region string `json:"region"`
	Bucket string `json:"bucket"`
	// TokenPath is the SSM path the token parameters live under, e.g.
	// /ci-infra/prod/.
	TokenPath string        `json:"tokenPath"`
	Places    []SecretPlace `json:"places"`
	// GitHubOwner and Webhooks: the repositories' webhooks, which the
	// secrets stack declares because each carries webhookSecret.
	GitHubOwner string          `json:"githubOwner,omitempty"`
	Webhooks    []NeededWebhook `json:"webhooks,omitempty"`
}

// NeededWebhook is one webhook of a repository (RepositoryConfig.Webhooks).
type NeededWebhook struct {
	Repository string   `json:"repository"`
	URL        string   `json:"url"`
	Events     []string `json:"events"`
}

// secretPlaces is where each secret goes, for token parameters under
// tokenDir: one table for both layouts, and what the secrets stack checks
// the main stack's secretsNeeded against (checkDestinations).
func secretPlaces(tokenDir string) map[string]SecretPlace {
	places := map[string]SecretPlace{}
	for _, spec := range secretTable {
		p := spec.place(tokenDir)
		p.Key = spec.Key
		places[spec.Key] = p
	}
	return places
}

// secretsNeeded lists every place of a secret for this config.
func (c *Config) secretsNeeded(tokenDir string) SecretsNeeded {
	places := secretPlaces(tokenDir)
	n := SecretsNeeded{Region: c.Region, Bucket: c.SecretsBucketName(), TokenPath: tokenDir}
	if c.ManageGitHub {
		for _, r := range c.Repositories {
			for _, w := range r.Webhooks {
				n.Webhooks = append(n.Webhooks, NeededWebhook{Repository: r.Name, URL: w.URL, Events: w.Events})
			}
		}
	}
	if len(n.Webhooks) > 0 {
		n.GitHubOwner = c.GitHubOrg
	}
	for _, key := range c.SecretKeys() {
		if p, ok := places[key]; ok && (key != "webhookSecret" || len(n.Webhooks) > 0) {
			n.Places = append(n.Places, p)
		}
	}
	return n
}

// tokenPath is the name of the token parameter of key.
func (n SecretsNeeded) tokenPath(key string) string {
	for _, p := range n.Places {
		if p.Key == key {
			return p.Parameter
		}
	}
	return ""
}

// objects are the secrets bucket's secret objects, with their values.
func (n SecretsNeeded) objects(value func(key string) pulumi.StringOutput) []bucket.Object {
	var out []bucket.Object
	for _, p := range n.Places {
		if p.Object == "" {
			continue
		}
		content := value(p.Key)
		if p.EnvVar != "" {
			envVar := p.EnvVar
			content = content.ApplyT(func(v string) string {
				return envVar + "=" + agent.ShellQuote(v) + "\n"
			}).(pulumi.StringOutput)
		}
		out = append(out, bucket.Object{Key: p.Object, Content: content})
	}
	return out
}

// declareTokens declares the token parameters of n.
func (n SecretsNeeded) declareTokens(ctx *pulumi.Context, value func(key string) pulumi.StringOutput, tags map[string]string, adoptExisting bool, opts ...pulumi.ResourceOption) (map[string]*agentstack.AgentToken, error) {
	tokens := map[string]*agentstack.AgentToken{}
	for _, p := range n.Places {
		if p.Parameter == "" {
			continue
		}
		importID := ""
		if adoptExisting {
			importID = p.Parameter
		}
		t, err := agentstack.NewToken(ctx, p.Name, agentstack.TokenArgs{Path: p.Parameter, Token: value(p.Key), Tags: tags, ImportID: importID}, opts...)
		if err != nil {
			return nil, err
		}
		tokens[p.Key] = t
	}
	return tokens, nil
}

// RunSecrets is the program of a ci-infra-secrets stack: it reads the main
// stack of the same name (a StackReference to its secretsNeeded output),
// then writes each secret there from its own config, where they are
// encrypted with its own key. Only operators and the deploy pipeline run
// it; no pull request previews it.
func RunSecrets(ctx *pulumi.Context) error {
	outputs, err := BuildSecrets(ctx)
	if err != nil {
		return err
	}
	for name, value := range outputs {
		ctx.Export(name, value)
	}
	return nil
}

// BuildSecrets declares the secrets stack's resources and returns its
// outputs.
func BuildSecrets(ctx *pulumi.Context) (pulumi.Map, error) {
	main := config.Get(ctx, "mainStack")
	if main == "" {
		main = ctx.Stack()
	}
	ref, err := pulumi.NewStackReference(ctx, "main", &pulumi.StackReferenceArgs{
		Name: pulumi.String(fmt.Sprintf("%s/%s/%s", ctx.Organization(), mainProject, main)),
	})
	if err != nil {
		return nil, err
	}
	details, err := ref.GetOutputDetails("secretsNeeded")
	if err != nil {
		return nil, fmt.Errorf("read the stack %s of %s: %w", main, mainProject, err)
	}
	if details == nil || details.Value == nil {
		return nil, fmt.Errorf("the stack %s of %s has no secretsNeeded output: set ci-infra:separateSecrets to true there (scripts/split-secrets moves an existing stack) and run scripts/ci-up, which updates the two stacks in order (docs/getting-started.md)", main, mainProject)
	}
	raw, err := json.Marshal(details.Value)
	if err != nil {
		return nil, err
	}
	var needed SecretsNeeded
	if err := json.Unmarshal(raw, &needed); err != nil {
		return nil, fmt.Errorf("the secretsNeeded output of %s: %w", main, err)
	}

	// Every secret goes only where this stack's own config says: the main
	// stack's output comes from whatever state its backend holds.
	problems := needed.checkDestinations(ctx, main)

	// Every secret the main stack needs, from this stack's config: all
	// missing ones are named at once, before anything is declared.
	values := map[string]pulumi.StringOutput{}
	for _, p := range needed.Places {
		full := ctx.Project() + ":" + p.Key
		raw, ok := ctx.GetConfig(full)
		switch {
		case !ok || raw == "":
			problems = append(problems, fmt.Errorf("%s: not set; the stack %s needs it; run `pulumi -C secrets config set --secret %s <value>`", full, main, p.Key))
		case !ctx.IsConfigSecret(full):
			problems = append(problems, fmt.Errorf("%s: %w", full, storedInPlainText("pulumi -C secrets config set --secret "+p.Key+" <value>")))
		default:
			values[p.Key] = config.GetSecret(ctx, p.Key)
		}
	}
	if len(problems) > 0 {
		return nil, configError(problems)
	}
	value := func(key string) pulumi.StringOutput { return values[key] }
	adoptExisting := config.GetBool(ctx, "adoptExisting")
	tags := label.Base(mainProject, main)

	// The main stack's region, from its output: one fact, one place.
	provider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(needed.Region)})
	if err != nil {
		return nil, err
	}
	in := pulumi.Providers(provider)
	if _, err := needed.declareTokens(ctx, value, tags, adoptExisting, in); err != nil {
		return nil, err
	}
	if objects := needed.objects(value); len(objects) > 0 {
		if _, err := bucket.NewObjects(ctx, nameSecrets, bucket.ObjectsArgs{
			// The tags the secrets bucket gave them in the main stack.
			Bucket: needed.Bucket, Objects: objects, Adopt: adoptExisting, Tags: label.Merge(tags, secretsRole),
		}, in); err != nil {
			return nil, err
		}
	}
	if err := needed.declareWebhooks(ctx, value("webhookSecret")); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{"mainStack": pulumi.String(main)}
	if key, ok := values["agentSshPrivateKey"]; ok {
		outputs["agentSshPublicKey"] = pulumi.Unsecret(key).ApplyT(func(v any) string {
			private, _ := v.(string)
			return sshPublicKey(private)
		}).(pulumi.StringOutput)
	}
	return outputs, nil
}

// The secrets stack's own config keys that pin where it writes.
const (
	secretsBucketKey   = "secretsBucket"
	tokenPathPrefixKey = "tokenPathPrefix"
	webhookURLsKey     = "webhookUrls"
)

// SecretsPins are the secrets stack's config values that pin where it
// writes, as they follow from a main stack's secretsNeeded output (its
// JSON form): what an operator sets once from the offline plan
// (scripts/lib.sh pin_secret_destinations), and what the offline plan
// assumes of a secrets stack that sets none. Keys are the project's own.
func SecretsPins(needed any) (map[string]string, error) {
	raw, err := json.Marshal(needed)
	if err != nil {
		return nil, err
	}
	var n SecretsNeeded
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	urls := []string{}
	for _, w := range n.Webhooks {
		urls = append(urls, w.URL)
	}
	rawURLs, err := json.Marshal(urls)
	if err != nil {
		return nil, err
	}
	return map[string]string{secretsBucketKey: n.Bucket, tokenPathPrefixKey: n.TokenPath, webhookURLsKey: string(rawURLs)}, nil
}

// checkDestinations holds each place n names to the secrets stack's own
// config: the secret objects go only to its secretsBucket, the token
// parameters only under its tokenPathPrefix, each secret only to the place
// secretPlaces gives it there, and webhookSecret only to the webhooks its
// webhookUrls lists. The main stack's output is read from its backend, so
// a backend, or a state, that someone else chose cannot send a secret
// anywhere else. It returns every problem, each naming its key.
func (n SecretsNeeded) checkDestinations(ctx *pulumi.Context, main string) []error {
	key := func(k string) string { return ctx.Project() + ":" + k }
	bucket := config.Get(ctx, secretsBucketKey)
	prefix := config.Get(ctx, tokenPathPrefixKey)
	var urls []string
	var problems []error
	if err := config.TryObject(ctx, webhookURLsKey, &urls); err != nil && config.Get(ctx, webhookURLsKey) != "" {
		problems = append(problems, fmt.Errorf("%s: must be a list of URLs: %w", key(webhookURLsKey), err))
	}
	unset := func(k, value string) error {
		return fmt.Errorf("%s: not set; the stack %s asks for %q: if that is right, run `pulumi -C secrets config set --plaintext %s %s` (scripts/ci-up does it from the offline plan on a laptop)", key(k), main, value, k, value)
	}
	objects, parameters := false, false
	for _, p := range n.Places {
		objects = objects || p.Object != ""
		parameters = parameters || p.Parameter != ""
	}
	switch {
	case objects && bucket == "":
		problems = append(problems, unset(secretsBucketKey, n.Bucket))
	case objects && n.Bucket != bucket:
		problems = append(problems, fmt.Errorf("%s is %q, but the stack %s asks for the secret objects in %q: refusing to write them there (if the secrets bucket really moved, set %s anew)", key(secretsBucketKey), bucket, main, n.Bucket, secretsBucketKey))
	}
	if parameters && prefix == "" {
		problems = append(problems, unset(tokenPathPrefixKey, n.TokenPath))
	}
	want := secretPlaces(prefix)
	for _, p := range n.Places {
		if p.Parameter != "" && prefix == "" {
			continue // named above
		}
		w, ok := want[p.Key]
		switch {
		case !ok:
			problems = append(problems, fmt.Errorf("the stack %s asks for %s, which this stack does not write", main, p.Key))
		case p != w:
			problems = append(problems, fmt.Errorf("the stack %s asks for %s at %s; this stack writes it only at %s (%s %q)", main, p.Key, p.destination(n.Bucket), w.destination(bucket), key(tokenPathPrefixKey), prefix))
		}
	}
	for _, w := range n.Webhooks {
		if !slices.Contains(urls, w.URL) {
			problems = append(problems, fmt.Errorf("%s does not list %s, where the stack %s asks webhookSecret to go (%s): add it with `pulumi -C secrets config set --plaintext --path '%s[%d]' %s` if it is yours", key(webhookURLsKey), w.URL, main, w.Repository, webhookURLsKey, len(urls), w.URL))
		}
	}
	return problems
}

// destination is where p writes, in words.
func (p SecretPlace) destination(bucket string) string {
	switch {
	case p.Parameter != "":
		return "the parameter " + p.Parameter
	case p.Object != "":
		return "s3://" + bucket + "/" + p.Object
	}
	return "the webhooks"
}

// declareWebhooks declares the main stack's repositories' webhooks, signed
// with secret, through a GitHub provider for its owner (its token comes
// from GITHUB_TOKEN).
func (n SecretsNeeded) declareWebhooks(ctx *pulumi.Context, secret pulumi.StringOutput) error {
	if len(n.Webhooks) == 0 {
		return nil
	}
	provider, err := github.NewProvider(ctx, "github", &github.ProviderArgs{Owner: pulumi.String(n.GitHubOwner)})
	if err != nil {
		return err
	}
	var repos []string
	byRepo := map[string][]guardrails.Webhook{}
	for _, w := range n.Webhooks {
		if _, ok := byRepo[w.Repository]; !ok {
			repos = append(repos, w.Repository)
		}
		byRepo[w.Repository] = append(byRepo[w.Repository], guardrails.Webhook{URL: w.URL, Events: w.Events, Secret: secret})
	}
	for _, repo := range repos {
		if _, err := guardrails.NewWebhooks(ctx, label.Name("webhooks", repo), guardrails.WebhooksArgs{Repository: repo, Webhooks: byRepo[repo]},
			pulumi.Provider(provider)); err != nil {
			return err
		}
	}
	return nil
}

// mainProject is the project of the main stacks.
const mainProject = "ci-infra"

// secretValue is a secret of this stack's own config (the layout without
// separateSecrets, where Validate has made sure each needed one is set).
func (c *Config) secretValue(key string) pulumi.StringOutput {
	if v := c.secrets()[key]; v != nil {
		return *v
	}
	return pulumi.String("").ToStringOutput()
}

// parameterARN is an SSM parameter's ARN in this account ("*": IAM
// evaluates a policy in its own account; no account ID is written).
func parameterARN(region, name string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:*:parameter%s", region, name)
}
