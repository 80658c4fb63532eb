// Package enginetest runs this repository through the real Pulumi CLI,
// against the fake cloud (internal/testkit/fakecloud) instead of AWS and GitHub. Its
// tests carry the build tag `engine`, so that `go test ./...` stays fast and
// needs no CLI; .ci/run runs them with `go test -tags engine
// ./internal/testkit/enginetest/`.
//
// Every test works on a copy of the project in a temporary directory, with a
// state backend, a Pulumi home and a fake cloud of its own: `pulumi stack
// init` and `pulumi config set` rewrite Pulumi.<stack>.yaml, and a
// committed stack file must never change in a test.
package enginetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
	"mtrlz.dev/ci-infra/stacks"
)

// The test stacks' keys. A main stack holds no secret: its passphrase is
// empty, as in production. Each secrets stack (secrets/) has
// SecretsPassphrase, which the scripts read as CI_INFRA_SECRETS_PASSPHRASE.
// Passphrase is that of a main stack in the layout that kept its secrets
// (InitStackWithSecrets), as before scripts/split-secrets.
const (
	SecretsPassphrase = "engine-test-secrets-passphrase"
	Passphrase        = "engine-test-passphrase"
)

// Tools are the executables of a run, built once (internal/testkit/testplugins).
// Bin goes first on PATH: the pinned Pulumi CLI, the fake cloud as
// pulumi-resource-aws and pulumi-resource-github, and the test language
// host as pulumi-language-go. OPA is the stand-in for the official OPA
// language plugin, which NewProject installs in the plugin cache, where the
// CLI installs the real one. Program is the program itself.
type Tools struct {
	Bin     string
	OPA     string
	Program string
	// SecretsProgram is the ci-infra-secrets project's program (secrets/).
	SecretsProgram string
}

// OPAPlugin is where Pulumi CLI v3.274.1 keeps the OPA language plugin it
// pins (pkg/v3 util/plugin.go: opa 1.1.3), relative to $PULUMI_HOME: the
// plugin cache's <kind>-<name>-v<version>/pulumi-<kind>-<name> (sdk
// workspace/plugins.go).
const OPAPlugin = "plugins/language-opa-v" + testenv.OPAPluginVersion + "/pulumi-language-opa"

var (
	toolsOnce sync.Once
	tools     Tools
	toolsErr  error
)

// BuildTools builds the tools once per test binary. The CLI comes from
// $PULUMI_CLI or from scripts/pulumi-cli, which caches it.
func BuildTools(t testing.TB) Tools {
	t.Helper()
	toolsOnce.Do(func() { tools, toolsErr = buildTools() })
	if toolsErr != nil {
		t.Fatalf("building the engine test tools: %v", toolsErr)
	}
	return tools
}

func buildTools() (Tools, error) {
	root := testenv.RootDir()
	bin, err := os.MkdirTemp("", "ci-infra-engine-")
	if err != nil {
		return Tools{}, err
	}
	cli := os.Getenv("PULUMI_CLI")
	if cli == "" {
		out, err := command(root, nil, "scripts/pulumi-cli")
		if err != nil {
			return Tools{}, err
		}
		cli = strings.TrimSpace(out)
	}
	if err := os.Symlink(cli, filepath.Join(bin, "pulumi")); err != nil {
		return Tools{}, err
	}
	versions, err := providerVersions()
	if err != nil {
		return Tools{}, err
	}
	// The OPA stand-in lives outside Bin, so that it is never on PATH.
	opa := filepath.Join(filepath.Dir(bin), filepath.Base(bin)+"-opa")
	builds := [][]string{
		{"build", "-o", filepath.Join(bin, "fakecloud"), "-ldflags", "-X main.versions=" + versions, "./internal/testkit/testplugins/fakecloud"},
		{"build", "-o", filepath.Join(bin, "pulumi-language-go"), "./internal/testkit/testplugins/languagego"},
		{"build", "-o", opa, "-ldflags", "-X main.version=" + testenv.OPAPluginVersion, "./internal/testkit/testplugins/opa"},
		{"build", "-o", filepath.Join(bin, "program"), "."},
		{"build", "-o", filepath.Join(bin, "secrets-program"), "./secrets"},
	}
	for _, args := range builds {
		if _, err := command(root, nil, "go", args...); err != nil {
			return Tools{}, err
		}
	}
	for _, pkg := range []string{"aws", "github"} {
		if err := os.Symlink(filepath.Join(bin, "fakecloud"), filepath.Join(bin, "pulumi-resource-"+pkg)); err != nil {
			return Tools{}, err
		}
	}
	return Tools{Bin: bin, OPA: opa, Program: filepath.Join(bin, "program"), SecretsProgram: filepath.Join(bin, "secrets-program")}, nil
}

// providerVersions reads the versions of the provider SDKs the program is
// built with, so that the fake plugins report them and the engine does not
// warn about a version mismatch: "aws=6.83.2,github=6.7.2".
func providerVersions() (string, error) {
	mod, err := testenv.ReadGoMod("go.mod")
	if err != nil {
		return "", err
	}
	var parts []string
	for _, pkg := range []string{"aws", "github"} {
		v, err := testenv.Required(mod, "github.com/pulumi/pulumi-"+pkg+"/sdk/v6")
		if err != nil {
			return "", err
		}
		parts = append(parts, pkg+"="+strings.TrimPrefix(v, "v"))
	}
	return strings.Join(parts, ","), nil
}

// Project is a copy of the repository with a backend, Pulumi home and fake
// cloud of its own.
type Project struct {
	Dir   string // the copy: run pulumi and the scripts here
	Home  string // its PULUMI_HOME, with the plugin cache
	Cloud fakecloud.Store
	env   []string
}

// NewProject copies the repository (tracked files and new, unignored ones)
// into a temporary directory.
func NewProject(t testing.TB) *Project {
	t.Helper()
	tl := BuildTools(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "project")
	if err := copyRepository(testenv.RootDir(), dir); err != nil {
		t.Fatal(err)
	}
	p := &Project{Dir: dir, Home: filepath.Join(tmp, "home"), Cloud: fakecloud.Store{Dir: filepath.Join(tmp, "cloud")}}
	for _, d := range []string{"backend", "home"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := installPlugin(tl.OPA, filepath.Join(p.Home, OPAPlugin)); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		// Nothing of the caller's clouds reaches a test.
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "GITHUB_") || strings.HasPrefix(kv, "PULUMI_") ||
			strings.HasPrefix(kv, "BUILDKITE") || strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, fakecloud.EnvDir+"=") {
			continue
		}
		p.env = append(p.env, kv)
	}
	p.env = append(p.env,
		"PATH="+tl.Bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PULUMI_BACKEND_URL=file://"+filepath.Join(tmp, "backend"),
		"PULUMI_HOME="+p.Home,
		"PULUMI_CONFIG_PASSPHRASE=",
		"CI_INFRA_SECRETS_PASSPHRASE="+SecretsPassphrase,
		"PULUMI_SKIP_UPDATE_CHECK=1",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		fakecloud.EnvDir+"="+p.Cloud.Dir,
		"CI_INFRA_PROGRAM=ci-infra="+tl.Program+",ci-infra-secrets="+tl.SecretsProgram,
	)
	return p
}

// installPlugin puts a plugin binary where `pulumi plugin install` would
// leave it: the plugin's own directory in the cache, with no .partial
// marker beside it (the CLI skips a directory that has one).
func installPlugin(bin, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.Symlink(bin, path)
}

// SetEnv sets an environment variable for every later command.
func (p *Project) SetEnv(key, value string) {
	p.env = append(p.env, key+"="+value)
}

// Pulumi runs the CLI in the project and returns its combined output.
func (p *Project) Pulumi(args ...string) (string, error) {
	return p.Run(nil, "pulumi", args...)
}

// MustPulumi is Pulumi that fails the test on error.
func (p *Project) MustPulumi(t testing.TB, args ...string) string {
	t.Helper()
	out, err := p.Pulumi(args...)
	if err != nil {
		t.Fatalf("pulumi %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Run runs a command in the project with the project's environment and
// stdin, and returns its combined output.
func (p *Project) Run(stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.Command(p.lookPath(name), args...)
	cmd.Dir = p.Dir
	cmd.Env = p.env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// InitStack creates the stack, as an operator does: the main stack with
// an empty passphrase, and, when secrets are given, the secrets stack of
// the same name with each secret set by `pulumi -C secrets config set
// --secret`, the value on stdin as an operator pipes it. Neither is up.
func (p *Project) InitStack(t testing.TB, stack string, secrets map[string]string) {
	t.Helper()
	p.MustPulumi(t, "stack", "init", stack)
	if secrets == nil {
		return
	}
	p.MustSecretsPulumi(t, nil, "stack", "init", stack)
	for key, value := range secrets {
		p.MustSecretsPulumi(t, []byte(value), "config", "set", "--secret", "--stack", stack, key)
	}
	p.PinSecretDestinations(t, stack)
}

// PinSecretDestinations pins where the secrets stack may write to what the
// main stack's offline plan asks, as scripts/ci-up does on a laptop
// (scripts/lib.sh pin_secret_destinations, which plans with go run; here
// the plan runs in the test's process).
func (p *Project) PinSecretDestinations(t testing.TB, stack string) {
	t.Helper()
	opts, err := plan.LoadOptions(p.Dir, stack)
	if err != nil {
		t.Fatal(err)
	}
	main, err := plan.Run(stacks.Build, opts)
	if err != nil {
		t.Fatalf("planning %s: %v", stack, err)
	}
	pins, err := stacks.SecretsPins(main.Outputs["secretsNeeded"].Value)
	if err != nil {
		t.Fatal(err)
	}
	for key, value := range pins {
		if key != "webhookUrls" {
			p.MustSecretsPulumi(t, nil, "config", "set", "--stack", stack, "--plaintext", key, value)
			continue
		}
		var urls []string
		if err := json.Unmarshal([]byte(value), &urls); err != nil {
			t.Fatal(err)
		}
		for i, url := range urls {
			p.MustSecretsPulumi(t, nil, "config", "set", "--stack", stack, "--plaintext", "--path", fmt.Sprintf("webhookUrls[%d]", i), url)
		}
	}
}

// InitStackWithSecrets creates a stack in the layout before
// ci-infra:separateSecrets: the stack holds its secrets, under Passphrase.
// Every later command of the project uses that passphrase.
func (p *Project) InitStackWithSecrets(t testing.TB, stack string, secrets map[string]string) {
	t.Helper()
	p.SetEnv("PULUMI_CONFIG_PASSPHRASE", Passphrase)
	p.MustPulumi(t, "stack", "init", stack)
	p.MustPulumi(t, "config", "set", "--stack", stack, "separateSecrets", "false")
	for key, value := range secrets {
		if out, err := p.Run([]byte(value), "pulumi", "config", "set", "--secret", "--stack", stack, key); err != nil {
			t.Fatalf("pulumi config set --secret %s: %v\n%s", key, err, out)
		}
	}
}

// SecretsPulumi runs the CLI on the ci-infra-secrets project (secrets/),
// with its own key, as an operator does with `pulumi -C secrets`.
func (p *Project) SecretsPulumi(stdin []byte, args ...string) (string, error) {
	return p.Run(stdin, "env", append([]string{"PULUMI_CONFIG_PASSPHRASE=" + SecretsPassphrase, "pulumi", "-C", "secrets"}, args...)...)
}

// MustSecretsPulumi is SecretsPulumi that fails the test on error.
func (p *Project) MustSecretsPulumi(t testing.TB, stdin []byte, args ...string) string {
	t.Helper()
	out, err := p.SecretsPulumi(stdin, args...)
	if err != nil {
		t.Fatalf("pulumi -C secrets %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Up updates the main stack, then its secrets stack, with the policy pack:
// what scripts/ci-up does once the secrets stack exists.
func (p *Project) Up(t testing.TB, stack string) {
	t.Helper()
	p.MustPulumi(t, "up", "--stack", stack, "--policy-pack", "policies", "--yes", "--non-interactive")
	p.MustSecretsPulumi(t, nil, "up", "--stack", stack, "--policy-pack", "../policies", "--yes", "--non-interactive")
}

// lookPath finds a command on the project's PATH (exec.Command would look
// on the test's own).
func (p *Project) lookPath(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, kv := range p.env {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(path) {
				if info, err := os.Stat(filepath.Join(dir, name)); err == nil && !info.IsDir() {
					return filepath.Join(dir, name)
				}
			}
		}
	}
	return name
}

func command(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// copyRepository copies the files git tracks, and the new ones it does not
// ignore, from root to dir.
func copyRepository(root, dir string) error {
	out, err := command(root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return err
	}
	for _, name := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Stat(src)
		if err != nil || info.IsDir() {
			continue // deleted in the work tree
		}
		raw, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, raw, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// MustRead returns a file of the project copy.
func (p *Project) MustRead(t testing.TB, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(p.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// RunOnTerminal runs a command on a pseudo-terminal (script(1), from
// bsdutils), as an operator at a terminal would, and types answer each
// time prompt shows. It returns what the terminal showed.
func (p *Project) RunOnTerminal(prompt, answer, name string, args ...string) (string, error) {
	line := p.lookPath(name)
	for _, a := range args {
		line += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmd := exec.Command("script", "-qec", line, "/dev/null")
	cmd.Dir = p.Dir
	cmd.Env = p.env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", err
	}
	var seen bytes.Buffer
	answered := 0
	buf := make([]byte, 4096)
	for {
		n, err := stdout.Read(buf)
		seen.Write(buf[:n])
		if strings.Count(seen.String(), prompt) > answered {
			answered++
			stdin.Write([]byte(answer))
		}
		if err != nil {
			break
		}
	}
	stdin.Close()
	return seen.String(), cmd.Wait()
}
