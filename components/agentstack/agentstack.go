// Package agentstack owns the Buildkite Elastic CI Stacks for AWS and what
// they take from outside: each stack is a CloudFormation stack of the
// published template, pinned by version, with every parameter the program
// sets checked against that version's contract before anything is deployed
// (agentstack.go, contract.go); the managed IAM policy the stacks attach to
// their instances (policy.go); and the agent registration token they read
// from SSM (token.go). Production runs four stacks: the test agents, the
// builders that keep a warm build cache, their burst stack, and the deploy
// agents.
package agentstack

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudformation"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/components/label"
)

// TypeToken is the Pulumi type of the component.
const TypeToken = "ci-infra:buildkite:AgentStack"

// Capabilities are what the template needs CloudFormation to allow: it
// creates named IAM resources and contains a SAM application (the scaler).
var Capabilities = []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"}

var stackName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

// Args configures an agent stack.
type Args struct {
	// StackName is the CloudFormation stack's name, e.g. "buildkite".
	StackName string
	// TemplateVersion pins the Elastic CI Stack release, e.g. "v6.71.1".
	TemplateVersion string
	// Queue is the Buildkite queue the agents serve.
	Queue string
	// MinSize and MaxSize bound the number of instances.
	MinSize, MaxSize int
	// InstanceTypes are tried in order (up to 25), e.g. ["c5.2xlarge"].
	InstanceTypes []string
	// ScaleInIdleSeconds is how long an instance may sit idle before it
	// terminates itself. Ignored when KeepWarm is set.
	ScaleInIdleSeconds int
	// OnDemandPercentage is the share of instances launched on demand; the
	// rest are spot (cheaper, but AWS may reclaim them mid-build).
	OnDemandPercentage int
	// KeepWarm makes a fixed stack whose instances, and so their local
	// build caches, live until a stack update replaces them: MinSize must
	// equal MaxSize. See warmParameters.
	KeepWarm bool
	// KeyName is an EC2 key pair for SSH; empty disables SSH (Session
	// Manager still works). Setting it opens tcp/22 to the world.
	KeyName string
	// Region is the region of the secrets bucket.
	Region string

	// ManagedPolicyARN is attached to the instance role.
	ManagedPolicyARN pulumi.StringInput
	// BootstrapScriptURL is the s3:// URL of the bootstrap script.
	BootstrapScriptURL pulumi.StringInput
	// SecretsBucket is the name of the managed-secrets bucket.
	SecretsBucket pulumi.StringInput
	// AgentTokenPath is the SSM parameter holding the registration token.
	AgentTokenPath pulumi.StringInput
	// VpcID and SubnetIDs place the instances.
	VpcID     pulumi.StringInput
	SubnetIDs pulumi.StringArrayInput

	// Tags are added to the stack, which propagates them to its resources.
	Tags map[string]string
	// VerifiesSignatures makes this stack's agents verify every job's
	// signature against a KMS key of their own, and refuse a job that fails
	// (block), without the right to sign: the deploy agents, which hold
	// credentials. An operator signs their pipelines' steps from a laptop
	// (scripts/sign-steps); no agent of the program signs anything.
	VerifiesSignatures bool
	// InstanceRoleBoundaryARN is the permissions boundary of the stack's
	// instance role (the template's InstanceRolePermissionsBoundaryARN):
	// whatever ManagedPolicyARNs attaches, the instances can do no more.
	InstanceRoleBoundaryARN pulumi.StringInput
	// OneJobPerInstance ends each instance after its job
	// (BuildkiteTerminateInstanceAfterJob): no job finds anything a
	// previous one left on the machine. For the deploy agents, whose jobs
	// hold credentials.
	OneJobPerInstance bool
	// ServiceRoleARN is the role CloudFormation deploys the stack with, so
	// that whoever deploys needs no permission of the template's own.
	ServiceRoleARN pulumi.StringInput
	// ImportID adopts an existing CloudFormation stack (its name) instead of
	// creating a second fleet.
	ImportID string
	// Scaling are the scaler's levers; the zero value keeps the
	// template's defaults.
	Scaling Scaling
}

// Scaling are the template's scaling levers (v6.71.1), as
// internal/fleet models them. cmd/fleet -compare is how to choose them.
type Scaling struct {
	// ScaleOutForWaitingJobs counts jobs waiting on another job (a test
	// job behind its build step) as needing an agent, so instances boot
	// while the build runs (ScaleOutForWaitingJobs). The idle period must
	// outlast the wait, or the instance leaves before its job is runnable.
	ScaleOutForWaitingJobs bool
	// ScaleOutCooldownSeconds between two scale-outs
	// (ScaleOutCooldownPeriod); nil keeps the template's 300.
	ScaleOutCooldownSeconds *int
	// InstanceBuffer instances are added while any job needs an agent, one
	// per job up to this many (InstanceBuffer; buildkite-agent-scaler
	// 1.12.0 scaler.go Run): agents booted before the jobs that need them.
	// 0 keeps the template's 0.
	InstanceBuffer int
	// Schedule raises MinSize in working hours (EnableScheduledScaling).
	Schedule *Schedule
}

// validate checks the levers against the stack's size; the template's
// contract checks each parameter's form (the cron patterns included).
func (s Scaling) validate(keepWarm bool, maxSize int) error {
	var errs []error
	if c := s.ScaleOutCooldownSeconds; c != nil && *c < 0 {
		errs = append(errs, fmt.Errorf("ScaleOutCooldownSeconds must be >= 0, got %d", *c))
	}
	if s.InstanceBuffer < 0 || s.InstanceBuffer > maxSize {
		errs = append(errs, fmt.Errorf("InstanceBuffer must be 0..MaxSize (%d), got %d", maxSize, s.InstanceBuffer))
	}
	if sc := s.Schedule; sc != nil {
		if keepWarm {
			errs = append(errs, errors.New("Schedule: a fixed stack (KeepWarm) has no scaler to schedule"))
		}
		for _, p := range sc.Validate(maxSize) {
			errs = append(errs, fmt.Errorf("Schedule.%s %w", p.Field, p.Err))
		}
	}
	return errors.Join(errs...)
}

// Validate reports the schedule's problems, each by field (Up, Down,
// Timezone, UpMinSize, DownMinSize), so that a caller can name its own
// config key for it.
func (s Schedule) Validate(maxSize int) []SizeProblem {
	var out []SizeProblem
	for field, expr := range map[string]string{"Up": s.Up, "Down": s.Down} {
		if _, err := ParseCron(expr, ""); err != nil {
			out = append(out, SizeProblem{field, fmt.Errorf("%v; e.g. \"0 14 * * MON-FRI\"", err)})
		}
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" {
		out = append(out, SizeProblem{"Timezone", fmt.Errorf("%q is not an IANA time zone such as UTC or America/New_York", s.Timezone)})
	}
	for field, n := range map[string]int{"UpMinSize": s.UpMinSize, "DownMinSize": s.DownMinSize} {
		if n < 0 || n > maxSize {
			out = append(out, SizeProblem{field, fmt.Errorf("must be 0..%d (the stack's MaxSize), got %d", maxSize, n)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// Schedule is the template's scheduled scaling: at Up (a cron expression
// in Timezone), MinSize becomes UpMinSize; at Down, DownMinSize.
type Schedule struct {
	Up, Down               string
	Timezone               string
	UpMinSize, DownMinSize int
}

// AgentStack is one Elastic CI Stack.
type AgentStack struct {
	pulumi.ResourceState

	// StackName is the CloudFormation stack's name.
	StackName pulumi.StringOutput `pulumi:"stackName"`
	// StackID is the stack's ARN.
	StackID pulumi.StringOutput `pulumi:"stackId"`
	// SigningKeyID is the KMS key the agents verify signatures with (the
	// template's PipelineSigningKMSKey output), when VerifiesSignatures;
	// an operator signs steps with it.
	SigningKeyID pulumi.StringOutput `pulumi:"signingKeyId"`
}

// Validate reports every problem of the arguments at once, including every
// static parameter that the pinned template would reject.
func (a Args) Validate() error {
	errs := []error{a.ValidateStackName()}
	for _, p := range ValidateSize(a.Queue, a.MinSize, a.MaxSize, a.InstanceTypes) {
		errs = append(errs, fmt.Errorf("%s %w", p.Field, p.Err))
	}
	if a.KeepWarm && (a.MinSize < 1 || a.MinSize != a.MaxSize) {
		errs = append(errs, errors.New("KeepWarm needs MinSize = MaxSize >= 1: a fixed baseline whose caches are kept; put burst capacity in a stack of its own on the same queue"))
	}
	if !a.KeepWarm && a.ScaleInIdleSeconds < 60 {
		errs = append(errs, fmt.Errorf("ScaleInIdleSeconds must be >= 60 (0 would keep idle instances forever), got %d", a.ScaleInIdleSeconds))
	}
	if a.Region == "" {
		errs = append(errs, errors.New("Region is required"))
	}
	errs = append(errs, a.Scaling.validate(a.KeepWarm, a.MaxSize))
	for field, in := range map[string]any{
		"ManagedPolicyARN": a.ManagedPolicyARN, "BootstrapScriptURL": a.BootstrapScriptURL,
		"SecretsBucket": a.SecretsBucket, "AgentTokenPath": a.AgentTokenPath,
		"VpcID": a.VpcID, "SubnetIDs": a.SubnetIDs, "InstanceRoleBoundaryARN": a.InstanceRoleBoundaryARN,
	} {
		if in == nil { // a nil interface input stays nil inside `any`
			errs = append(errs, fmt.Errorf("%s is required", field))
		}
	}
	contract, err := ContractFor(a.TemplateVersion)
	if err != nil {
		errs = append(errs, err)
	} else {
		params := a.StaticParameters()
		for _, name := range slices.Sorted(maps.Keys(params)) {
			if err := contract.Check(name, params[name]); err != nil {
				errs = append(errs, err)
			}
		}
		for _, name := range DynamicParameterNames {
			if _, ok := contract.Parameters[name]; !ok {
				errs = append(errs, fmt.Errorf("template %s has no parameter %s", a.TemplateVersion, name))
			}
		}
	}
	return errors.Join(errs...)
}

// ValidateStackName checks the CloudFormation stack name rules.
// SizeProblem is a problem of one field of a stack's size, so that a
// caller (the stack config) can name its own key for it.
type SizeProblem struct {
	Field string // Queue, MinSize, MaxSize or InstanceTypes
	Err   error
}

// ValidateQueue is the one check of a Buildkite queue name.
func ValidateQueue(queue string) error {
	if !ident.IsQueue(queue) {
		return fmt.Errorf("%q must be %s", queue, ident.QueueRule)
	}
	return nil
}

// MaxSizeCeiling is the most instances any agent stack may scale to: the
// test agents' cap, chosen with cmd/fleet on the bursty trace (a Monday's
// builds need about 40; docs/cost-and-capacity.md). The policy pack's
// max_size_ceiling is generated from it (policies/generated.rego), so the
// config, the component and the pack refuse the same sizes. Raising it is
// a reviewed change here.
const MaxSizeCeiling = 40

// ValidateSize is the one check of a stack's queue and size: the
// component's and the stack config's.
func ValidateSize(queue string, minSize, maxSize int, instanceTypes []string) []SizeProblem {
	var ps []SizeProblem
	bad := func(field, format string, args ...any) {
		ps = append(ps, SizeProblem{Field: field, Err: fmt.Errorf(format, args...)})
	}
	if err := ValidateQueue(queue); err != nil {
		bad("Queue", "%v", err)
	}
	if minSize < 0 {
		bad("MinSize", "must be >= 0, got %d", minSize)
	}
	if maxSize < 1 {
		bad("MaxSize", "must be >= 1, got %d", maxSize)
	}
	if maxSize > MaxSizeCeiling {
		bad("MaxSize", "must be at most %d (agentstack.MaxSizeCeiling, which the policy pack enforces too), got %d", MaxSizeCeiling, maxSize)
	}
	if minSize > maxSize {
		bad("MaxSize", "must be >= MinSize (%d), got %d", minSize, maxSize)
	}
	if len(instanceTypes) == 0 || len(instanceTypes) > 25 {
		bad("InstanceTypes", "needs 1 to 25 instance types, got %d", len(instanceTypes))
	}
	return ps
}

func (a Args) ValidateStackName() error {
	if !stackName.MatchString(a.StackName) {
		return fmt.Errorf("stack name %q must start with a letter and hold only letters, digits and hyphens (at most 128)", a.StackName)
	}
	return nil
}

// DynamicParameterNames are the parameters whose values come from other
// resources (known only after they exist).
var DynamicParameterNames = []string{
	"ManagedPolicyARNs", "BootstrapScriptUrl", "SecretsBucket",
	"BuildkiteAgentTokenParameterStorePath", "VpcId", "Subnets", "InstanceRolePermissionsBoundaryARN",
}

// StaticParameters are the template parameters known before anything is
// deployed, as CloudFormation receives them (numbers travel as strings).
func (a Args) StaticParameters() map[string]string {
	p := map[string]string{
		"BuildkiteQueue":     a.Queue,
		"MinSize":            strconv.Itoa(a.MinSize),
		"MaxSize":            strconv.Itoa(a.MaxSize),
		"InstanceTypes":      strings.Join(a.InstanceTypes, ","),
		"OnDemandPercentage": strconv.Itoa(a.OnDemandPercentage),
		// User namespace remapping breaks permissions on bind mounts with
		// autouseradd (the seed's reason); the trust model does not rely on it.
		"EnableDockerUserNamespaceRemap": "false",
		// Our own secrets bucket, fetched over TLS with SSE required.
		"SecretsBucketEncryption": "true",
		"SecretsBucketRegion":     a.Region,
		// IMDSv1 lets any SSRF in a build read the instance role's keys.
		"IMDSv2Tokens":        "required",
		"RootVolumeEncrypted": "true",
		// Public subnets without NAT: agents need a public address to reach
		// Buildkite and GitHub.
		"AssociatePublicIpAddress": "true",
	}
	if a.KeyName != "" {
		p["KeyName"] = a.KeyName
	}
	if a.OneJobPerInstance {
		p["BuildkiteTerminateInstanceAfterJob"] = "true"
	}
	if a.VerifiesSignatures {
		p["PipelineSigningKMSKeySpec"] = "ECC_NIST_P256"
		p["PipelineSigningKMSAccess"] = "verify"
		p["PipelineSigningVerificationFailureBehavior"] = "block"
	}
	// No scale-in path may terminate an instance running a job: the scaler
	// never lowers the desired count (DisableScaleIn, and Elastic CI mode,
	// which ignores it and terminates the oldest instance, stays off), and
	// the ASG may not pick protected instances. Instances leave only by
	// idle self-termination, which happens only when idle.
	p["DisableScaleIn"] = "true"
	p["InstanceScaleInProtection"] = "true"
	p["ScalerEnableExperimentalElasticCIMode"] = "false"
	if a.KeepWarm {
		maps.Copy(p, warmParameters())
	} else {
		p["ScaleInIdlePeriod"] = strconv.Itoa(a.ScaleInIdleSeconds)
	}
	if a.Scaling.ScaleOutForWaitingJobs {
		p["ScaleOutForWaitingJobs"] = "true"
	}
	if c := a.Scaling.ScaleOutCooldownSeconds; c != nil {
		p["ScaleOutCooldownPeriod"] = strconv.Itoa(*c)
	}
	if b := a.Scaling.InstanceBuffer; b > 0 {
		p["InstanceBuffer"] = strconv.Itoa(b)
	}
	if sc := a.Scaling.Schedule; sc != nil {
		p["EnableScheduledScaling"] = "true"
		p["ScaleUpSchedule"], p["ScaleDownSchedule"] = sc.Up, sc.Down
		p["ScaleUpMinSize"], p["ScaleDownMinSize"] = strconv.Itoa(sc.UpMinSize), strconv.Itoa(sc.DownMinSize)
		p["ScheduleTimezone"] = sc.Timezone
	}
	if a.MinSize > 0 {
		// The stack waits for MinSize instances to signal at creation; give
		// the bootstrap script and cold Docker pulls more than the 5 minutes
		// of the default.
		p["InstanceCreationTimeout"] = "PT15M"
	}
	return p
}

// warmParameters keep a fixed stack's instances, and their caches, alive:
// no idle self-termination (at desired == MinSize the ASG would replace the
// instance with a cold one: scripts/terminate-instance, v6.71.1), and, with
// MinSize = MaxSize, no scaler at all (aws-stack.yml, condition
// HasVariableSize), so no scale-in can pick one. Graceful shutdown lets a
// running job finish when a stack update replaces the group; it does
// nothing for the scaler's scale-in, which this stack does not have.
func warmParameters() map[string]string {
	return map[string]string{
		"ScaleInIdlePeriod":                    "0",
		"BuildkiteAgentEnableGracefulShutdown": "true",
	}
}

// New declares the stack.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*AgentStack, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("agent stack %s: %w", name, err)
	}
	s := &AgentStack{}
	if err := ctx.RegisterComponentResource(TypeToken, name, s, opts...); err != nil {
		return nil, err
	}
	params := pulumi.StringMap{}
	for k, v := range args.StaticParameters() {
		params[k] = pulumi.String(v)
	}
	params["ManagedPolicyARNs"] = args.ManagedPolicyARN
	params["BootstrapScriptUrl"] = args.BootstrapScriptURL
	params["SecretsBucket"] = args.SecretsBucket
	params["BuildkiteAgentTokenParameterStorePath"] = args.AgentTokenPath
	params["VpcId"] = args.VpcID
	params["InstanceRolePermissionsBoundaryARN"] = args.InstanceRoleBoundaryARN
	params["Subnets"] = args.SubnetIDs.ToStringArrayOutput().ApplyT(func(ids []string) string {
		return strings.Join(ids, ",")
	}).(pulumi.StringOutput)

	caps := pulumi.StringArray{}
	for _, c := range Capabilities {
		caps = append(caps, pulumi.String(c))
	}
	stack, err := cloudformation.NewStack(ctx, label.Name(name, "stack"), &cloudformation.StackArgs{
		Name:         pulumi.String(args.StackName),
		TemplateUrl:  pulumi.String(TemplateURL(args.TemplateVersion)),
		IamRoleArn:   args.ServiceRoleARN,
		Capabilities: caps,
		Parameters:   params,
		Tags:         pulumi.ToStringMap(args.Tags),
	}, pulumi.Parent(s), adopt.Option(args.ImportID))
	if err != nil {
		return nil, err
	}
	s.StackName = stack.Name
	s.StackID = stack.ID().ToStringOutput()
	s.SigningKeyID = stack.Outputs.ApplyT(func(out map[string]string) string {
		return out["PipelineSigningKMSKey"]
	}).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"stackName": s.StackName, "stackId": s.StackID, "signingKeyId": s.SigningKeyID}); err != nil {
		return nil, err
	}
	return s, nil
}
