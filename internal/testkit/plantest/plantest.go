// Package plantest is the shared helper of the tests that run Pulumi code:
// it runs a program or a stack under the plan's mocks. What needs no Pulumi
// (the repository root, golden files, -update) is internal/testkit/testenv.
package plantest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// Project and Stack name the runs of Run.
const (
	Project = "ci-infra"
	Stack   = "test"
)

// Run runs program under the mocks with the given config (fully qualified
// keys) and fails the test on error.
func Run(t testing.TB, program plan.Program, config map[string]string, secrets ...string) *plan.Plan {
	t.Helper()
	p, err := RunErr(program, config, secrets...)
	require.NoError(t, err)
	return p
}

// RunErr is Run for tests that expect an error; the plan holds what was
// registered before it.
func RunErr(program plan.Program, config map[string]string, secrets ...string) (*plan.Plan, error) {
	if config == nil {
		config = map[string]string{}
	}
	return plan.Run(program, plan.Options{Project: Project, Stack: Stack, Config: config, Secrets: secrets})
}

// Rejects asserts that declare fails with an error containing wantErr and
// registers nothing: a bad input must be refused before anything is touched.
func Rejects(t testing.TB, declare func(ctx *pulumi.Context) error, wantErr string) {
	t.Helper()
	p, err := RunErr(Component(declare), nil)
	require.Error(t, err)
	require.ErrorContains(t, err, wantErr)
	require.Empty(t, p.Registered(), "a bad input registers nothing")
}

// Component wraps a function that declares components into a Program that
// returns no outputs.
func Component(declare func(ctx *pulumi.Context) error) plan.Program {
	return func(ctx *pulumi.Context) (pulumi.Map, error) {
		return pulumi.Map{}, declare(ctx)
	}
}

// SecretsInStackOptions is StackOptions for the layout before
// ci-infra:separateSecrets, where the stack holds its own secrets (each a
// placeholder): what the secret objects hold and who may read them is the
// same code in both layouts.
func SecretsInStackOptions(t testing.TB, stack string) plan.Options {
	t.Helper()
	opts, err := plan.LoadOptionsWith(testenv.Root(t), stack, map[string]string{"ci-infra:" + plan.SeparateSecretsKey: "false"})
	require.NoError(t, err)
	return opts
}

// StackOptions loads the config of a stack of the repository exactly as the
// plan command does.
func StackOptions(t testing.TB, stack string) plan.Options {
	t.Helper()
	opts, err := plan.LoadOptions(testenv.Root(t), stack)
	require.NoError(t, err)
	return opts
}

// SetPath sets one field of the config object under key, as
// `pulumi config set --path KEY.PATH VALUE` does: path is dotted
// ("test.maxSize"), value any JSON value. The object's other fields stay.
func SetPath(t testing.TB, config map[string]string, key, path string, value any) {
	t.Helper()
	root := map[string]any{}
	if raw := config[key]; raw != "" {
		require.NoError(t, json.Unmarshal([]byte(raw), &root), "%s holds an object", key)
	}
	obj := root
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	obj[parts[len(parts)-1]] = value
	raw, err := json.Marshal(root)
	require.NoError(t, err)
	config[key] = string(raw)
}
