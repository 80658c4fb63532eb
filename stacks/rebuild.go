package stacks

// A stack rebuilt from another's config in another account or region
// (scripts/dr-rebuild; docs/disaster-recovery.md): what it copies, what
// it leaves out, and the names it gives, decided here once.

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/label"
)

// Rebuild is where a rebuild goes: a new stack, built from the config of
// From in Region, with buckets of new names, since S3 names stay taken for
// a while after an account is lost.
type Rebuild struct {
	From, Stack     string
	Region          string
	BucketSuffix    string
	DownloadsBucket string
}

var stackPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Check reports every problem of the places at once, by the rules the
// config itself is held to: each problem names the key the value sets.
func (r Rebuild) Check() error {
	var errs []error
	if !stackPattern.MatchString(r.Stack) {
		errs = append(errs, fmt.Errorf("stack %q: lowercase letters, digits and hyphens", r.Stack))
	} else if r.Stack == r.From {
		errs = append(errs, fmt.Errorf("stack %q is the stack it is rebuilt from: name a new one", r.Stack))
	}
	if err := checkRegion(r.Region); err != nil {
		errs = append(errs, fmt.Errorf("aws:region: %w", err))
	}
	c := Config{BucketSuffix: r.BucketSuffix}
	for _, err := range c.checkBucketSuffix() {
		errs = append(errs, fmt.Errorf("ci-infra:bucketSuffix: %w", err))
	}
	if err := bucket.ValidateName(r.DownloadsBucket); err != nil {
		errs = append(errs, fmt.Errorf("ci-infra:downloadsBucketName: %w", err))
	}
	return errors.Join(errs...)
}

// notRebuilt are the keys a rebuild leaves out, and why.
var notRebuilt = map[string]string{
	"ci-infra:downloadsDomain":            "the alias is global, and the lost stack's distribution holds it until it is removed: point it at the rebuild by hand (docs/disaster-recovery.md)",
	"ci-infra:publicZoneId":               "it serves the alias (downloadsDomain)",
	"ci-infra:downloadsCertificateIssued": "the certificate is the alias's",
	"ci-infra:adopt":                      "it names the lost stack's resources",
}

// StackFile is the rebuild's Pulumi.<stack>.yaml, from the file of the
// stack it is rebuilt from (from) and that stack's config with every
// default resolved (effective, as plan.LoadOptions gives it): every key
// of from but its secrets (the new secrets stack gets them, each from its
// owner) and notRebuilt, placed in Region under the new bucket names;
// every name an AWS account holds once takes the new stack's name, so
// that the rebuild never collides with the lost stack in one account; and
// GitHub stays with the stack that manages it (manageGitHub false).
func (r Rebuild) StackFile(from []byte, effective map[string]string) ([]byte, error) {
	var file struct {
		Config yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(from, &file); err != nil {
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", r.From, err)
	}
	var keys []string
	values := map[string]*yaml.Node{}
	pairs := file.Config.Content
	for i := 0; i+1 < len(pairs); i += 2 {
		key, value := pairs[i].Value, pairs[i+1]
		if _, skip := notRebuilt[key]; skip || isSecure(value) {
			continue
		}
		// The lost stack's comments describe the lost stack.
		dropComments(value)
		keys = append(keys, key)
		values[key] = value
	}
	var errs []error
	set := func(key string, v any) {
		var node yaml.Node
		errs = append(errs, node.Encode(v))
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
		values[key] = &node
	}
	for _, p := range r.placed(effective) {
		set(p.key, p.value)
	}
	var fromStacks any
	if n := values["ci-infra:agentStacks"]; n != nil {
		errs = append(errs, n.Decode(&fromStacks))
	}
	stacks, err := r.agentStacks(fromStacks, effective["ci-infra:agentStacks"])
	if err != nil {
		return nil, err
	}
	set("ci-infra:agentStacks", stacks)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	config := &yaml.Node{Kind: yaml.MappingNode}
	for _, key := range keys {
		config.Content = append(config.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, values[key])
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "config"}, config}}
	var b strings.Builder
	fmt.Fprintf(&b, "# Stack %s: %s rebuilt in %s by scripts/dr-rebuild (stacks.Rebuild;\n", r.Stack, r.From, r.Region)
	b.WriteString("# docs/disaster-recovery.md). It holds no secret: the secrets stack of the\n")
	b.WriteString("# same name (secrets/) gets them, each from its owner. Left out:\n")
	for _, key := range slices.Sorted(maps.Keys(notRebuilt)) {
		fmt.Fprintf(&b, "#   %s: %s\n", key, notRebuilt[key])
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return []byte(b.String()), enc.Close()
}

// placement is a key a rebuild sets, and its value.
type placement struct {
	key   string
	value any
}

// placed are the keys a rebuild sets besides agentStacks: the region,
// the new bucket names, the agent policy after the new stack (from the
// lost stack's effective config), and GitHub left with the stack that
// manages it. Mismatches compares an existing file on these keys.
func (r Rebuild) placed(effective map[string]string) []placement {
	return []placement{
		{"aws:region", r.Region},
		{"ci-infra:bucketSuffix", r.BucketSuffix},
		{"ci-infra:downloadsBucketName", r.DownloadsBucket},
		{"ci-infra:manageGitHub", false},
		{"ci-infra:agentPolicyName", label.Name(effective["ci-infra:agentPolicyName"], r.Stack)},
	}
}

// agentStacks is the lost stack's agentStacks (as its file has it) with
// each CloudFormation stack named after the new stack.
func (r Rebuild) agentStacks(fromFile any, effective string) (map[string]any, error) {
	current, err := ParseAgentStacks("ci-infra:agentStacks", effective)
	if err != nil {
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", r.From, err)
	}
	out := map[string]any{}
	if fromFile != nil {
		// A deep copy through JSON: the file's value is left as it was.
		raw, err := json.Marshal(fromFile)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("Pulumi.%s.yaml: ci-infra:agentStacks is not an object", r.From)
		}
	}
	field := func(path ...string) map[string]any {
		m := out
		for _, p := range path {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		return m
	}
	field("test")["stackName"] = label.Name(current.Test.StackName, r.Stack)
	field("builders")["stackName"] = label.Name(current.Builders.StackName, r.Stack)
	field("builders", "burst")["stackName"] = label.Name(current.Builders.Burst.StackName, r.Stack)
	field("deploy")["stackName"] = label.Name(current.Deploy.StackName, r.Stack)
	return out, nil
}

func dropComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		dropComments(c)
	}
}

func isSecure(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "secure"
}

// Mismatches compares an existing stack file of the rebuild (a rehearsal,
// a committed example) with the file StackFile writes, on what the
// rebuild places only (the region, the names, GitHub): each difference
// says which key and both values. Everything else is the operator's.
func (r Rebuild) Mismatches(existing, written []byte) ([]string, error) {
	read := func(file []byte) (map[string]any, AgentStacks, error) {
		var doc struct{ Config map[string]any }
		if err := yaml.Unmarshal(file, &doc); err != nil {
			return nil, AgentStacks{}, err
		}
		raw := ""
		if v, ok := doc.Config["ci-infra:agentStacks"]; ok {
			encoded, err := json.Marshal(v)
			if err != nil {
				return nil, AgentStacks{}, err
			}
			raw = string(encoded)
		}
		stacks, err := ParseAgentStacks("ci-infra:agentStacks", raw)
		return doc.Config, stacks, err
	}
	have, haveStacks, err := read(existing)
	if err != nil {
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", r.Stack, err)
	}
	want, wantStacks, err := read(written)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range r.placed(nil) {
		if key := p.key; fmt.Sprint(have[key]) != fmt.Sprint(want[key]) {
			out = append(out, fmt.Sprintf("%s: the file has %v, the rebuild %v", key, have[key], want[key]))
		}
	}
	if h, w := haveStacks.StackNames(), wantStacks.StackNames(); !slices.Equal(h, w) {
		out = append(out, fmt.Sprintf("ci-infra:agentStacks: the file names the stacks %s, the rebuild %s", strings.Join(h, ", "), strings.Join(w, ", ")))
	}
	return out, nil
}
