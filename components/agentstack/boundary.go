package agentstack

// The permissions boundary of the agent stacks' instance roles (the
// template's InstanceRolePermissionsBoundaryARN). The template grants its
// instances what they need (the secrets bucket, their token parameter,
// their scaling group, logs, the signing key's verification), and
// ManagedPolicyARNs adds the agent policy. A boundary caps both: whatever
// a change to the template's parameters attaches, every job on the
// instances (which can use the instance role through IMDS) can still not
// write IAM, sign a pipeline, or read another cluster's agent token.

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/label"
	"mtrlz.dev/ci-infra/components/policydoc"
)

// BoundaryTypeToken is the Pulumi type of the boundary component.
const BoundaryTypeToken = "ci-infra:iam:AgentBoundary"

// iamWrites are every IAM action that changes who may do what.
var iamWrites = []string{
	"iam:Create*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Update*", "iam:Delete*",
	"iam:Add*", "iam:Remove*", "iam:Set*", "iam:PassRole", "iam:Tag*", "iam:Untag*",
	"iam:UploadSSHPublicKey", "iam:ChangePassword",
}

// parameterReads are the SSM reads authorised against a parameter's own
// ARN. GetParametersByPath is authorised against the requested path, not
// the parameters returned, so a Deny on a token's ARN does not stop it
// (facts.md); the agents need it for nothing, so it is denied everywhere.
var parameterReads = []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"}

// BoundaryArgs configures a boundary.
type BoundaryArgs struct {
	// Name is the managed policy's physical name, e.g.
	// "ci-infra-prod-agent-boundary".
	Name string
	// DeniedParameterARNs are the agent tokens these instances must not
	// read: the other cluster's.
	DeniedParameterARNs []pulumi.StringInput
	// Tags are added to the policy.
	Tags map[string]string
}

// Validate reports every problem of the arguments at once.
func (a BoundaryArgs) Validate() error {
	errs := []error{ValidatePolicyName(a.Name)}
	if len(a.DeniedParameterARNs) == 0 {
		errs = append(errs, errors.New("DeniedParameterARNs must name the other cluster's agent token: a boundary that denies no token proves nothing"))
	}
	return errors.Join(errs...)
}

// Boundary is the managed policy.
type Boundary struct {
	pulumi.ResourceState

	// Arn is what the agent stacks pass as InstanceRolePermissionsBoundaryARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
}

// BoundaryDocument allows everything the template and the agent policy
// grant, except IAM writes, signing, path reads of SSM, the denied
// parameters and changes to how long logs are kept.
func BoundaryDocument(deniedParameterARNs []string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "WhatTheStackGrants", Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "NoIAMWrites", Effect: "Deny", Action: iamWrites, Resource: []string{"*"}},
		policydoc.Statement{Sid: "NoSigning", Effect: "Deny", Action: []string{"kms:Sign"}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "NoPathReads", Effect: "Deny", Action: []string{"ssm:GetParametersByPath"}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "NotTheOtherClustersToken", Effect: "Deny", Action: parameterReads, Resource: deniedParameterARNs},
		// The template lets every instance set any log group's retention
		// (aws-stack.yml v6.71.1, Logging: logs:PutRetentionPolicy on *),
		// for the CloudWatch agent's retention_in_days, which it sets only
		// with EnableEC2LogRetentionPolicy (off here). Every stack ships to
		// the same /buildkite/* groups, so a default job could cut the
		// deploy agents' logs short; no job may.
		policydoc.Statement{Sid: "NoLogRetentionChanges", Effect: "Deny", Action: []string{
			"logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:DeleteLogGroup", "logs:DeleteLogStream",
		}, Resource: []string{"*"}},
	)
}

// NewBoundary declares the boundary.
func NewBoundary(ctx *pulumi.Context, name string, args BoundaryArgs, opts ...pulumi.ResourceOption) (*Boundary, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("agent boundary %s: %w", name, err)
	}
	b := &Boundary{}
	if err := ctx.RegisterComponentResource(BoundaryTypeToken, name, b, opts...); err != nil {
		return nil, err
	}
	arns := pulumi.StringArray{}
	arns = append(arns, args.DeniedParameterARNs...)
	doc := arns.ToStringArrayOutput().ApplyT(func(denied []string) (string, error) {
		return BoundaryDocument(denied).JSON()
	}).(pulumi.StringOutput)
	policy, err := iam.NewPolicy(ctx, label.Name(name, "policy"), &iam.PolicyArgs{
		Name:        pulumi.String(args.Name),
		Description: pulumi.String("Bounds the Buildkite agents' instance role: no IAM writes, no signing, no other cluster's token."),
		Policy:      doc,
		Tags:        pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(b))
	if err != nil {
		return nil, err
	}
	b.Arn = policy.Arn
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{"arn": b.Arn}); err != nil {
		return nil, err
	}
	return b, nil
}
