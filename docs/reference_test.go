package docs

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
	"mtrlz.dev/ci-infra/stacks"
)

// The references are generated, never written by hand: configuration.md
// from Pulumi.yaml's config schema, policy-pack.md from the rules and the
// comments above them in policies/*.rego. A change to either source that
// is not regenerated fails here; `go test ./docs -update` regenerates.

func TestConfigurationReferenceIsCurrent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := configurationReference(raw)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(testenv.Root(t), "stacks", "agentstacks.go"))
	if err != nil {
		t.Fatal(err)
	}
	fields, err := objectReference(src, "AgentStacks", stacks.DefaultAgentStacks())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fields, "`test.maxSize`") {
		t.Fatalf("the agent stacks' reference lists no field:\n%s", fields)
	}
	want += "\n## Agent stacks\n\n" +
		"The fields of `agentStacks`, from `stacks/agentstacks.go` (its comments and\n" +
		"`DefaultAgentStacks`). A stack sets only those it changes, e.g.\n" +
		"`pulumi config set --path agentStacks.test.maxSize 30`; the rest keep these\n" +
		"defaults. A misspelt field is refused, naming the closest one.\n\n" +
		"| Field | Type | Default | Description |\n| --- | --- | --- | --- |\n" + fields
	checkGenerated(t, "configuration.md", want)
}

func TestPolicyPackReferenceIsCurrent(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Root(t), "policies", "*.rego"))
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources[filepath.Base(f)] = string(raw)
	}
	want := policyReference(sources)
	if !strings.Contains(want, "`deny_bucket_role`") {
		t.Fatalf("the policy reference lists no rule:\n%s", want)
	}
	checkGenerated(t, "policy-pack.md", want)
}

// checkGenerated compares a generated page with the committed one, and
// writes it with -update.
func checkGenerated(t *testing.T, file, want string) {
	t.Helper()
	got, _ := os.ReadFile(file)
	if string(got) == want {
		return
	}
	if testenv.Update() {
		if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/%s is not what its source generates; run: go test ./docs -update", file)
}

// objectReference renders every leaf field of the struct named root in
// the Go source src, by its JSON path: its type, its value in defaults and
// the comment above it (joined with the comments of the structs it sits
// in, when it has none of its own).
func objectReference(src []byte, root string, defaults any) (string, error) {
	file, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	structs := map[string]*ast.StructType{}
	ast.Inspect(file, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				structs[ts.Name.Name] = st
			}
		}
		return true
	})
	var b strings.Builder
	var walk func(prefix, typeName string, v reflect.Value) error
	walk = func(prefix, typeName string, v reflect.Value) error {
		st, ok := structs[typeName]
		if !ok {
			return fmt.Errorf("no struct %s in the source", typeName)
		}
		for _, f := range st.Fields.List {
			if len(f.Names) != 1 || f.Tag == nil {
				continue
			}
			tag := reflect.StructTag(strings.Trim(f.Tag.Value, "`"))
			name, _, _ := strings.Cut(tag.Get("json"), ",")
			value := v.FieldByName(f.Names[0].Name)
			doc := strings.Join(strings.Fields(f.Doc.Text()), " ")
			if doc == "" {
				return fmt.Errorf("field %s%s has no comment: say what it sets", prefix, name)
			}
			if value.Kind() == reflect.Struct {
				ident, ok := f.Type.(*ast.Ident)
				if !ok {
					return fmt.Errorf("field %s: want a named struct type", name)
				}
				if err := walk(prefix+name+".", ident.Name, value); err != nil {
					return err
				}
				continue
			}
			typ := map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Bool: "boolean", reflect.Slice: "string[]"}[value.Kind()]
			def, _ := json.Marshal(value.Interface())
			text := strings.Trim(string(def), `"`)
			if text == "" {
				text = `""`
			}
			fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", prefix+name, typ, text, strings.ReplaceAll(doc, "|", `\|`))
		}
		return nil
	}
	if err := walk("", root, reflect.ValueOf(defaults)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// configKey is one key of Pulumi.yaml's config schema.
type configKey struct {
	Type        string `yaml:"type"`
	Default     any    `yaml:"default"`
	Description string `yaml:"description"`
	Secret      bool   `yaml:"secret"`
	Items       struct {
		Type string `yaml:"type"`
	} `yaml:"items"`
}

// configurationReference renders every key of the project's config
// schema, in its order: name, type, default (or "required"), description.
func configurationReference(project []byte) (string, error) {
	var doc struct {
		Config yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(project, &doc); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("<!-- generated from Pulumi.yaml by docs/reference_test.go: go test ./docs -update -->\n")
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("Every key of the `ci-infra:` namespace, as `Pulumi.yaml` declares it. Set one with\n")
	b.WriteString("`pulumi config set KEY VALUE` (lists and objects with `--path` or in `Pulumi.<stack>.yaml`);\n")
	b.WriteString("a key without a default is required. Secrets are set in the secrets stack\n")
	b.WriteString("([secrets.md](secrets.md)), never here. A bad value fails the preview naming the key\n")
	b.WriteString("and the fix, before anything is touched.\n\n")
	b.WriteString("| Key | Type | Default | Description |\n| --- | --- | --- | --- |\n")
	nodes := doc.Config.Content
	for i := 0; i+1 < len(nodes); i += 2 {
		var k configKey
		if err := nodes[i+1].Decode(&k); err != nil {
			return "", fmt.Errorf("config key %s: %w", nodes[i].Value, err)
		}
		typ := k.Type
		if typ == "array" && k.Items.Type != "" {
			typ = k.Items.Type + "[]"
		}
		def := "required"
		if nodes[i+1].Kind == yaml.MappingNode && hasKey(nodes[i+1], "default") {
			def = "`" + defaultText(k.Default) + "`"
		}
		desc := strings.Join(strings.Fields(k.Description), " ")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", nodes[i].Value, typ, def, strings.ReplaceAll(desc, "|", `\|`))
	}
	return b.String(), nil
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func defaultText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if v == "" {
			return `""`
		}
		return v
	case []any:
		var parts []string
		for _, x := range v {
			parts = append(parts, defaultText(x))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return fmt.Sprint(v)
	}
}

var ruleHead = regexp.MustCompile(`^((?:stack_)?(deny|violation|warn)_\w+)\s+(contains|\[|=|:=|if)`)

// policyReference renders every rule of the pack, by file: its name, its
// level (deny and violation rules block a preview; warn rules are
// advisory), whether it sees one resource or the whole stack, and the
// comment above its first definition.
func policyReference(sources map[string]string) string {
	var files []string
	for f := range sources {
		files = append(files, f)
	}
	sort.Strings(files)
	var b strings.Builder
	b.WriteString("<!-- generated from policies/*.rego by docs/reference_test.go: go test ./docs -update -->\n")
	b.WriteString("# Policy pack reference\n\n")
	b.WriteString("Every rule of the pack in `policies/`, with the comment written above it. A\n")
	b.WriteString("mandatory rule blocks `pulumi preview` and `up` (`--policy-pack policies`) and\n")
	b.WriteString("fails the offline plan; an advisory one is reported only. A resource rule sees\n")
	b.WriteString("one resource; a stack rule sees them all. How the pack runs: [development.md](development.md).\n")
	for _, f := range files {
		var rows []string
		seen := map[string]bool{}
		var comment []string
		for _, line := range strings.Split(sources[f], "\n") {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "#") && line == trimmed {
				comment = append(comment, strings.TrimSpace(strings.TrimPrefix(trimmed, "#")))
				continue
			}
			if m := ruleHead.FindStringSubmatch(line); m != nil && !seen[m[1]] {
				seen[m[1]] = true
				level := "mandatory"
				if m[2] == "warn" {
					level = "advisory"
				}
				scope := "resource"
				if strings.HasPrefix(m[1], "stack_") {
					scope = "stack"
				}
				text := strings.ReplaceAll(strings.Join(comment, " "), "|", `\|`)
				rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s |", m[1], level, scope, strings.TrimSpace(text)))
			}
			if trimmed == "" || !strings.HasPrefix(trimmed, "#") {
				comment = nil
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n| Rule | Level | Sees | What and why |\n| --- | --- | --- | --- |\n", f)
		b.WriteString(strings.Join(slices.Compact(rows), "\n") + "\n")
	}
	return b.String()
}

// A newcomer goes from the README to every page and task in one click:
// every relative link of README.md and docs/*.md names a file that exists
// and, with a #fragment, a heading of it (GitHub's slugs).
func TestEveryLinkResolves(t *testing.T) {
	root := testenv.Root(t)
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, page := range pages {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, fragment, _ := strings.Cut(target, "#")
			file := page
			if path != "" {
				file = filepath.Join(filepath.Dir(page), path)
			}
			rel, _ := filepath.Rel(root, page)
			if _, err := os.Stat(file); err != nil {
				t.Errorf("%s links to %s, which does not exist", rel, target)
				continue
			}
			if fragment != "" && !slices.Contains(headingSlugs(t, file), fragment) {
				t.Errorf("%s links to %s, but %s has no heading #%s", rel, target, filepath.Base(file), fragment)
			}
		}
	}
}

// headingSlugs are the anchors GitHub makes of a Markdown file's headings:
// lower case, punctuation dropped, spaces made hyphens.
func headingSlugs(t *testing.T, file string) []string {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	fence := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteRune(r)
			}
		}
		slugs = append(slugs, b.String())
	}
	return slugs
}
