package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// LoadOptions reads Pulumi.yaml and Pulumi.<stack>.yaml from dir and returns
// the config the CLI would pass to the program: the stack's values, then the
// defaults of Pulumi.yaml's `config:` block for every key the stack leaves
// unset (the SDK does not apply those; the CLI does). Secret values cannot be
// decrypted offline, so every secret key that is encrypted or unset gets a
// placeholder, and Options.Placeholders says which.
func LoadOptions(dir, stack string) (Options, error) {
	return LoadOptionsWith(dir, stack, nil)
}

// LoadOptionsWith is LoadOptions with some keys set to plain values over
// the stack file's, as `pulumi config set` would: e.g. a stack in the
// layout before ci-infra:separateSecrets, for the tests of that layout.
func LoadOptionsWith(dir, stack string, set map[string]string) (Options, error) {
	project, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return Options{}, fmt.Errorf("reading Pulumi.yaml: %w", err)
	}
	stackFile := filepath.Join(dir, "Pulumi."+stack+".yaml")
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	ps, err := workspace.LoadProjectStack(sink, project, stackFile)
	if err != nil {
		return Options{}, fmt.Errorf("reading %s: %w", filepath.Base(stackFile), err)
	}
	for key, value := range set {
		k, err := config.ParseKey(key)
		if err != nil {
			return Options{}, err
		}
		ps.Config[k] = config.NewValue(value)
	}
	return resolve(project, ps.Config, stack)
}

func resolve(project *workspace.Project, stackConfig config.Map, stack string) (Options, error) {
	name := project.Name.String()
	opts := Options{Project: name, Stack: stack, Config: map[string]string{}}
	// Only values that really are encrypted (or stand in for one) are secret:
	// a plaintext value of a secret key must reach the program as plaintext,
	// so that the program can refuse it.
	secret := map[string]bool{}

	for key, value := range stackConfig {
		full := key.String()
		if value.Secure() {
			secret[full] = true
			opts.Placeholders = append(opts.Placeholders, full)
			opts.Config[full] = Placeholder(full)
			continue
		}
		v, err := value.Value(config.NopDecrypter)
		if err != nil {
			return Options{}, fmt.Errorf("%s: %w", full, err)
		}
		opts.Config[full] = v
	}

	// A stack that keeps its secrets in another stack (separateSecrets)
	// gets no stand-in for them: it must hold none.
	separate, set := opts.Config[name+":"+SeparateSecretsKey]
	if schema, ok := project.Config[SeparateSecretsKey]; ok && !set && schema.Default != nil {
		separate, _ = configString(schema.Default)
	}
	for key, schema := range project.Config {
		full := name + ":" + key
		if _, set := opts.Config[full]; set {
			continue
		}
		switch {
		case (schema.Secret || IsOptionalSecret(schema.Description, schema.Default)) && separate == "true":
			continue
		case schema.Secret, IsOptionalSecret(schema.Description, schema.Default):
			secret[full] = true
			opts.Placeholders = append(opts.Placeholders, full)
			opts.Config[full] = Placeholder(full)
		case schema.Default != nil:
			v, err := configString(schema.Default)
			if err != nil {
				return Options{}, fmt.Errorf("Pulumi.yaml default of %s: %w", full, err)
			}
			opts.Config[full] = v
		}
	}

	for k := range secret {
		opts.Secrets = append(opts.Secrets, k)
	}
	sort.Strings(opts.Secrets)
	sort.Strings(opts.Placeholders)
	return opts, nil
}

// SeparateSecretsKey is the project key that says a stack keeps its
// secrets in another stack (stacks.Config.SeparateSecrets).
const SeparateSecretsKey = "separateSecrets"

// OptionalSecretMark starts the description of a secret key that only some
// configurations need. Pulumi.yaml declares such a key with an empty default
// and without `secret: true` (the CLI would require it, or refuse its
// default), so this mark is how the plan knows to stand in for it; a test in
// stacks keeps the mark on exactly those keys.
const OptionalSecretMark = "Secret (set with --secret)."

// IsOptionalSecret says whether a project key is an optional secret.
func IsOptionalSecret(description string, def any) bool {
	return def == "" && strings.HasPrefix(strings.TrimSpace(description), OptionalSecretMark)
}

// Placeholder is the value a plan uses for a secret it cannot read. It is
// obviously not a credential.
func Placeholder(key string) string {
	return "plan-placeholder-for-" + key
}

// configString renders a default the way the CLI passes config to a program:
// strings as they are, everything else as JSON.
func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}
