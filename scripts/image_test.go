package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// instruction is one Dockerfile instruction as BuildKit's own parser reads
// it (github.com/moby/buildkit/frontend/dockerfile/parser, what `docker
// build` uses): its keyword, flags and arguments.
type instruction struct {
	keyword string
	flags   []string
	args    []string
	line    int
}

func parsedDockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.Root(t), ".buildkite", "Dockerfile"))
	require.NoError(t, err)
	defer f.Close()
	res, err := parser.Parse(f)
	require.NoError(t, err, "BuildKit's parser accepts the Dockerfile")
	var out []instruction
	for _, n := range res.AST.Children {
		in := instruction{keyword: strings.ToUpper(n.Value), flags: n.Flags, line: n.StartLine}
		for next := n.Next; next != nil; next = next.Next {
			in.args = append(in.args, next.Value)
		}
		out = append(out, in)
	}
	return out
}

// image is a FROM reference: name, tag and (once scripts/ci-image pin ran)
// digest.
var image = regexp.MustCompile(`^([a-z0-9./-]+):([A-Za-z0-9._-]+)(@sha256:[0-9a-f]{64})?$`)

// pluginInstall is one `pulumi plugin install KIND NAME VERSION` of a RUN.
var pluginInstall = regexp.MustCompile(`pulumi plugin install (\S+) (\S+) (\S+)`)

// The image's pins, each against the one place that fact lives: the CLI in
// internal/testkit/pulumicli/go.mod, Go and the provider SDKs in go.mod, the OPA
// language plugin in the version the CLI pins. Nothing in it is built from
// source.
func TestTheImagePinsWhatTheRepositoryPins(t *testing.T) {
	mod := testenv.GoMod(t, "go.mod")
	cli := strings.TrimPrefix(testenv.Require(t, testenv.GoMod(t, "internal/testkit/pulumicli/go.mod"), testenv.PulumiCLIModule), "v")
	want := map[string]string{
		"resource aws":    strings.TrimPrefix(testenv.Require(t, mod, "github.com/pulumi/pulumi-aws/sdk/v6"), "v"),
		"resource github": strings.TrimPrefix(testenv.Require(t, mod, "github.com/pulumi/pulumi-github/sdk/v6"), "v"),
		"language opa":    testenv.OPAPluginVersion,
	}

	froms := map[string]string{}  // image name -> tag
	stages := map[string]string{} // stage name -> image name
	plugins := map[string]string{}
	var copiedGo []string
	var run strings.Builder
	for _, in := range parsedDockerfile(t) {
		switch in.keyword {
		case "FROM":
			m := image.FindStringSubmatch(in.args[0])
			require.NotNil(t, m, "line %d: FROM %s: pin an image by name:tag (and digest)", in.line, in.args[0])
			froms[m[1]] = m[2]
			if len(in.args) == 3 && strings.EqualFold(in.args[1], "AS") {
				stages[in.args[2]] = m[1]
			}
			if m[3] == "" {
				t.Logf("line %d: %s has no digest yet: `scripts/ci-image pin` (or the first push) writes it", in.line, in.args[0])
			}
		case "COPY":
			for _, f := range in.flags {
				if stage, ok := strings.CutPrefix(f, "--from="); ok {
					copiedGo = append(copiedGo, stages[stage]+" "+strings.Join(in.args, " "))
				}
			}
		case "RUN":
			cmd := strings.Join(in.args, " ")
			run.WriteString(cmd + "\n")
			for _, m := range pluginInstall.FindAllStringSubmatch(cmd, -1) {
				plugins[m[1]+" "+m[2]] = m[3]
			}
		}
	}

	assert.Equal(t, cli, froms["pulumi/pulumi-go"], "the official Pulumi Go image at the pinned CLI's version")
	goTag := froms["golang"]
	assert.True(t, strings.HasPrefix(goTag, mod.Go.Version+"-"), "the Go toolchain of go.mod's go line (%s), not %q", mod.Go.Version, goTag)
	assert.True(t, slices.ContainsFunc(copiedGo, func(c string) bool { return strings.HasPrefix(c, "golang /usr/local/go ") }),
		"the toolchain is copied in at build time: %v", copiedGo)
	assert.Equal(t, want, plugins, "the plugins a preview loads, installed at the pinned versions")
	for _, forbidden := range []string{"go build", "go install", "scripts/pulumi-cli", "pulumi-language-opa"} {
		assert.NotContains(t, run.String(), forbidden, "nothing is built from source, and no bridge is installed")
	}
	for _, tool := range []string{"shellcheck", "jq", "awscli", "moto"} {
		assert.Contains(t, run.String(), tool, "the steps use %s", tool)
	}
}

// ciImageScript runs scripts/ci-image in a copy of the files it touches, with a
// stand-in for Docker that pulls, builds and pushes nothing and answers
// `docker image inspect` as a registry would, with digest: no engine runs
// here. It returns a function that runs one subcommand, and the copy.
func ciImageScript(t *testing.T, digest string) (run func(sub string) string, dir string) {
	t.Helper()
	root := testenv.Root(t)
	dir = t.TempDir()
	for _, f := range []string{"scripts/ci-image", ".buildkite/Dockerfile", ".buildkite/pipeline.yml"} {
		raw, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), raw, 0o755))
	}
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	docker := "#!/bin/sh\ncase $1 in\n  image) eval \"ref=\\${$#}\"; echo \"${ref%%:*}@" + digest + "\" ;;\nesac\nexit 0\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker"), []byte(docker), 0o755))
	return func(sub string) string {
		cmd := exec.Command("bash", "scripts/ci-image", sub)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}, dir
}

// scripts/ci-image pin writes each base image's digest after its tag, and
// the result still parses and keeps its pins.
func TestCIImagePinWritesDigests(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	run, dir := ciImageScript(t, digest)
	run("pin")

	raw, err := os.ReadFile(filepath.Join(dir, ".buildkite", "Dockerfile"))
	require.NoError(t, err)
	res, err := parser.Parse(strings.NewReader(string(raw)))
	require.NoError(t, err)
	froms := 0
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			froms++
			assert.Regexp(t, `^[a-z0-9./-]+:[A-Za-z0-9._-]+@`+digest+`$`, n.Next.Value)
		}
	}
	assert.Equal(t, 2, froms, "the Go stage and the Pulumi image")
	assert.Contains(t, string(raw), "FROM golang:1.26.8-bookworm@"+digest+" AS go", "the stage name stays")

	// A second run finds nothing left to pin.
	assert.NotContains(t, run("pin"), "pinned")
}

// scripts/ci-image push writes the pushed image into pipeline.yml by the
// digest the registry gave it, which in-image and the pipeline's test
// require.
func TestCIImagePushWritesTheDigest(t *testing.T) {
	digest := "sha256:" + strings.Repeat("cd", 32)
	run, dir := ciImageScript(t, digest)
	run("push")
	raw, err := os.ReadFile(filepath.Join(dir, ".buildkite", "pipeline.yml"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^  CI_INFRA_IMAGE: "materialize/ci-infra:\d{8}-\d{6}@`+digest+`"$`, string(raw))
}
