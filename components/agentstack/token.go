package agentstack

// The Buildkite agent registration token in AWS: an SSM SecureString
// parameter that the agent stacks read through
// BuildkiteAgentTokenParameterStorePath. Passing the token as the template's
// BuildkiteAgentToken parameter instead would show it in the CloudFormation
// console and, because the parameter is NoEcho, make every preview report a
// change.

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/label"
)

// TokenTypeToken is the Pulumi type of the token component.
const TokenTypeToken = "ci-infra:secrets:AgentToken"

// pathPattern is the template's AllowedPattern for a parameter path.
var pathPattern = regexp.MustCompile(`^/[a-zA-Z0-9_.\-/]+$`)

// TokenArgs configures the token parameter.
type TokenArgs struct {
	// Path is the parameter name, starting with a slash.
	Path string
	// Token is the registration token; it must be a secret input.
	Token pulumi.StringInput
	// Tags are added to the parameter.
	Tags map[string]string
	// ImportID adopts an existing parameter (its name): a stack taking the
	// token over from another.
	ImportID string
}

// AgentToken is the stored token.
type AgentToken struct {
	pulumi.ResourceState

	// Path is the parameter's name, for BuildkiteAgentTokenParameterStorePath.
	Path pulumi.StringOutput `pulumi:"path"`
	// Arn is the parameter's ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
}

// Validate reports every problem of the arguments at once.
func (a TokenArgs) Validate() error {
	var errs []error
	if !pathPattern.MatchString(a.Path) {
		errs = append(errs, fmt.Errorf("parameter path %q must start with / and hold only letters, digits and _.-/", a.Path))
	}
	if a.Token == nil {
		errs = append(errs, errors.New("Token is required"))
	}
	return errors.Join(errs...)
}

// NewToken declares the parameter. It is protected: deleting it deregisters no
// agent but stops every new instance from registering.
func NewToken(ctx *pulumi.Context, name string, args TokenArgs, opts ...pulumi.ResourceOption) (*AgentToken, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("agent token %s: %w", name, err)
	}
	t := &AgentToken{}
	if err := ctx.RegisterComponentResource(TokenTypeToken, name, t, opts...); err != nil {
		return nil, err
	}
	param, err := ssm.NewParameter(ctx, label.Name(name, "parameter"), &ssm.ParameterArgs{
		Name:        pulumi.String(args.Path),
		Type:        pulumi.String("SecureString"),
		Value:       pulumi.ToSecret(args.Token).(pulumi.StringOutput),
		Description: pulumi.String("Buildkite agent registration token, read by the Elastic CI Stack instances."),
		Tags:        pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(t), pulumi.Protect(true), adopt.Option(args.ImportID))
	if err != nil {
		return nil, err
	}
	t.Path = param.Name
	t.Arn = param.Arn
	if err := ctx.RegisterResourceOutputs(t, pulumi.Map{"path": t.Path, "arn": t.Arn}); err != nil {
		return nil, err
	}
	return t, nil
}
