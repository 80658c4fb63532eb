package docs

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

const module = "mtrlz.dev/ci-infra"

// testOnly are the packages only tests use: the test machinery, all under
// internal/testkit/ (the fake cloud and its plugins, the engine harness,
// the mocks runner, the shared test environment), and the tests of scripts
// and docs. They sit in the top layer, the picture leaves them out, and no
// product package imports them (TestProductImportsNoTestMachinery).
var testOnly = []string{"internal/testkit/", "scripts", "docs"}

// layers orders the packages top to bottom: a package may import its own
// layer and the layers below it, never one above. A package that matches no
// prefix fails the test until it is placed here.
var layers = []struct {
	name     string
	prefixes []string
}{
	{"entry points and tests", append([]string{".", "cmd/", "secrets"}, testOnly...)},
	{"composition", []string{"stacks"}},
	{"checks on a plan", []string{"policies", "internal/fleet", "internal/fleet/history", "internal/bkcheck", "internal/previewreport"}},
	{"what is deployed", []string{"components/", "agent"}},
	{"foundations", []string{"internal/plan", "internal/cost", "internal/cloudmodel", "internal/bksettings", "internal/confighints"}},
}

// layerOf gives the index of the layer that holds a package directory.
func layerOf(dir string) (int, error) {
	for i, l := range layers {
		for _, p := range l.prefixes {
			if under(dir, p) {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("package %s is in no layer: place it in docs/architecture_test.go", dir)
}

// imports maps each package directory of the module (relative, "." for the
// root) to the module's packages its non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	graph := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			// A nested module (internal/testkit/pulumicli) is not part of this one.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		if _, ok := graph[dir]; !ok {
			graph[dir] = nil
		}
		for _, spec := range f.Imports {
			p := strings.Trim(spec.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module+"/"); ok && !slices.Contains(graph[dir], rest) {
				graph[dir] = append(graph[dir], rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

func TestImportsPointDown(t *testing.T) {
	graph := imports(t)
	if len(graph) < 10 {
		t.Fatalf("found only %d packages: the walk is wrong", len(graph))
	}
	for dir, deps := range graph {
		from, err := layerOf(dir)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, dep := range deps {
			to, err := layerOf(dep)
			if err != nil {
				t.Error(err)
				continue
			}
			if to < from {
				t.Errorf("%s (%s) imports %s (%s): imports point down only", dir, layers[from].name, dep, layers[to].name)
			}
		}
	}
}

// node collapses the components and the commands into one box each: the
// picture shows the flow, the test above checks every edge.
func node(dir string) string {
	switch {
	case dir == ".":
		return "main.go"
	case strings.HasPrefix(dir, "components/"):
		return "components/*"
	case strings.HasPrefix(dir, "cmd/"):
		return "cmd/*"
	}
	return dir
}

func id(n string) string {
	return strings.NewReplacer("/", "_", ".", "_", "*", "all").Replace(n)
}

// render draws the layers as subgraphs and the imports between boxes, with
// the two ways the program runs (the engine and the offline plan) and the
// config it reads.
func render(graph map[string][]string) string {
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart TD\n")
	b.WriteString("  config[\"Pulumi.yaml + Pulumi.&lt;stack&gt;.yaml\"]\n")
	b.WriteString("  engine([\"pulumi preview / up: the engine and providers\"])\n")
	placed := map[string]bool{}
	for i, l := range layers {
		var nodes []string
		for dir := range graph {
			if n, _ := layerOf(dir); n == i && !placed[node(dir)] && !isTest(dir) {
				placed[node(dir)] = true
				nodes = append(nodes, node(dir))
			}
		}
		slices.Sort(nodes)
		fmt.Fprintf(&b, "  subgraph L%d[\"%s\"]\n", i, l.name)
		for _, n := range nodes {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", id(n), n)
		}
		b.WriteString("  end\n")
	}
	var edges []string
	for dir, deps := range graph {
		if isTest(dir) {
			continue
		}
		for _, dep := range deps {
			if e := fmt.Sprintf("  %s --> %s\n", id(node(dir)), id(node(dep))); node(dir) != node(dep) && !slices.Contains(edges, e) {
				edges = append(edges, e)
			}
		}
	}
	slices.Sort(edges)
	b.WriteString(strings.Join(edges, ""))
	b.WriteString("  config -. read by .-> stacks\n")
	b.WriteString("  main_go -. registers resources with .-> engine\n")
	b.WriteString("  internal_plan -. mocks stand in for .-> engine\n")
	b.WriteString("```\n")
	return b.String()
}

// isTest tells the packages that only tests use; the picture leaves them out.
func isTest(dir string) bool {
	return slices.ContainsFunc(testOnly, func(p string) bool { return under(dir, p) })
}

// under tells whether a package directory is the one prefix names, or, for
// a prefix ending in "/", below it.
func under(dir, prefix string) bool {
	return dir == strings.TrimSuffix(prefix, "/") || (strings.HasSuffix(prefix, "/") && strings.HasPrefix(dir, prefix))
}

// The product (what an operator runs: the program, its commands, the
// offline plan and the policy pack) links no test double: a file that is
// not a test imports internal/testkit only from inside it.
func TestProductImportsNoTestMachinery(t *testing.T) {
	for dir, deps := range imports(t) {
		if isTest(dir) {
			continue
		}
		for _, dep := range deps {
			if under(dep, "internal/testkit/") {
				t.Errorf("%s imports %s: product code links no test machinery (move what both need out of internal/testkit)", dir, dep)
			}
		}
	}
}

const (
	begin = "<!-- generated by docs/architecture_test.go: go test ./docs -update -->\n"
	end   = "<!-- end of generated picture -->\n"
)

func TestArchitecturePictureFollowsTheCode(t *testing.T) {
	const file = "architecture.md"
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	before, rest, ok1 := strings.Cut(doc, begin)
	old, after, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("%s lost its markers %q and %q", file, begin, end)
	}
	want := render(imports(t))
	if old == want {
		return
	}
	if testenv.Update() {
		if err := os.WriteFile(file, []byte(before+begin+want+end+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s does not match the imports; run: go test ./docs -update\n--- want\n%s", file, want)
}
