package agentstack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestTokenIsAProtectedSecureString(t *testing.T) {
	p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
		// A plain input: the component must still store it as a secret.
		_, err := NewToken(ctx, "agent-token", TokenArgs{Path: "/ci-infra/test/buildkite-agent-token", Token: pulumi.String("test-token")})
		return err
	}), nil)
	param, err := p.Get("aws:ssm/parameter:Parameter", "agent-token-parameter")
	require.NoError(t, err)
	assert.Equal(t, "SecureString", param.Input("type"))
	assert.Equal(t, "/ci-infra/test/buildkite-agent-token", param.Input("name"))
	assert.True(t, param.IsSecret("value"), "the token is secret in state")
	assert.True(t, param.Protect)
}

func TestInvalidTokenPath(t *testing.T) {
	for _, path := range []string{"", "no-slash", "/has space", "/semi;colon"} {
		err := TokenArgs{Path: path, Token: pulumi.String("t")}.Validate()
		assert.Error(t, err, path)
	}
	assert.Error(t, TokenArgs{Path: "/ok"}.Validate(), "a missing token is an error")
}
