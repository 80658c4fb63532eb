package agentstack

// The managed IAM policy the agent stacks attach to their instance role (the
// template's ManagedPolicyARNs): read access to the bootstrap script and
// nothing more. The secrets bucket needs no grant here; the stack grants its
// instances read access to the bucket named in SecretsBucket itself.

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/label"
	"mtrlz.dev/ci-infra/components/policydoc"
)

// PolicyTypeToken is the Pulumi type of the policy component.
const PolicyTypeToken = "ci-infra:iam:AgentPolicy"

// DefaultPolicyName is the policy's physical name in the seed's account.
const DefaultPolicyName = "buildkite-agent"

var policyName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// PolicyArgs configures the policy.
type PolicyArgs struct {
	// Name is the physical policy name; DefaultPolicyName when empty.
	Name string
	// BootstrapObjectARN is the ARN of the bootstrap script object. It is
	// derived from the uploaded object, never typed.
	BootstrapObjectARN pulumi.StringInput
	// Tags are added to the policy.
	Tags map[string]string
	// ImportID adopts an existing policy (its ARN) instead of creating one:
	// the seed's hand-made buildkite-agent policy holds the name otherwise.
	ImportID string
}

// AgentPolicy is the managed policy.
type AgentPolicy struct {
	pulumi.ResourceState

	// Arn is what the agent stacks pass as ManagedPolicyARNs.
	Arn pulumi.StringOutput `pulumi:"arn"`
}

func (a *PolicyArgs) defaults() {
	if a.Name == "" {
		a.Name = DefaultPolicyName
	}
}

// Validate reports every problem of the arguments at once.
func (a PolicyArgs) Validate() error {
	errs := []error{ValidatePolicyName(a.Name)}
	if a.BootstrapObjectARN == nil {
		errs = append(errs, errors.New("BootstrapObjectARN is required"))
	}
	return errors.Join(errs...)
}

// ValidatePolicyName checks IAM's rules for a policy name.
func ValidatePolicyName(name string) error {
	if !policyName.MatchString(name) {
		return fmt.Errorf("policy name %q must be 1-128 characters of letters, digits and +=,.@_-", name)
	}
	return nil
}

// PolicyDocument is the policy: s3:GetObject on exactly the bootstrap object.
func PolicyDocument(bootstrapObjectARN string) policydoc.Document {
	return policydoc.New(policydoc.Statement{
		Sid:      "ReadBootstrapScript",
		Effect:   "Allow",
		Action:   []string{"s3:GetObject"},
		Resource: []string{bootstrapObjectARN},
	})
}

// NewPolicy declares the policy.
func NewPolicy(ctx *pulumi.Context, name string, args PolicyArgs, opts ...pulumi.ResourceOption) (*AgentPolicy, error) {
	args.defaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("agent policy %s: %w", name, err)
	}
	p := &AgentPolicy{}
	if err := ctx.RegisterComponentResource(PolicyTypeToken, name, p, opts...); err != nil {
		return nil, err
	}
	doc := args.BootstrapObjectARN.ToStringOutput().ApplyT(func(arn string) (string, error) {
		return PolicyDocument(arn).JSON()
	}).(pulumi.StringOutput)
	policy, err := iam.NewPolicy(ctx, label.Name(name, "policy"), &iam.PolicyArgs{
		Name:        pulumi.String(args.Name),
		Description: pulumi.String("Lets Buildkite agents read their bootstrap script, and nothing more."),
		Policy:      doc,
		Tags:        pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(p), adopt.Option(args.ImportID))
	if err != nil {
		return nil, err
	}
	p.Arn = policy.Arn
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{"arn": p.Arn}); err != nil {
		return nil, err
	}
	return p, nil
}
