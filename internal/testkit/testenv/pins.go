package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/modfile"
)

// PulumiCLIModule is the module whose version pins the Pulumi CLI, in
// internal/testkit/pulumicli/go.mod (scripts/pulumi-cli builds it).
const PulumiCLIModule = "github.com/pulumi/pulumi/pkg/v3"

// OPAPluginVersion is the OPA language plugin (pulumi-policy-opa) that the
// pinned CLI installs to run a `runtime: opa` pack (pkg/v3 v3.274.1,
// util/plugin.go, knownLanguageRuntimes). The engine tests check it against
// the CLI's own source, and install their stand-in under it.
const OPAPluginVersion = "1.1.3"

// ReadGoMod parses a go.mod of the repository, by its path relative to the
// root: "go.mod", or "internal/testkit/pulumicli/go.mod".
func ReadGoMod(path string) (*modfile.File, error) {
	path = filepath.Join(RootDir(), path)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return modfile.ParseLax(path, raw, nil)
}

// Required returns the version that a parsed go.mod requires of a module,
// "v6.83.2".
func Required(f *modfile.File, module string) (string, error) {
	for _, r := range f.Require {
		if r.Mod.Path == module {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s requires no %s", f.Syntax.Name, module)
}

// GoMod is ReadGoMod that fails the test on error.
func GoMod(t testing.TB, path string) *modfile.File {
	t.Helper()
	f, err := ReadGoMod(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Require is Required that fails the test on error.
func Require(t testing.TB, f *modfile.File, module string) string {
	t.Helper()
	v, err := Required(f, module)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
