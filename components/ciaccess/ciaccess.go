// Package ciaccess owns how this repository's own Buildkite pipelines get
// AWS credentials: the IAM OIDC provider for Buildkite's agent tokens, a
// read-only preview role that denies every secret (the preview step of any
// build the gate lets run), and a deploy role only the deploy step of the
// deploy branch may assume, on the deploy agents. No long-lived keys exist
// to steal.
package ciaccess

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/components/label"
	"mtrlz.dev/ci-infra/components/policydoc"
)

// TypeToken is the Pulumi type of the component: one name for the concept,
// as in the package and the stack's logical name "ci-access".
const TypeToken = "ci-infra:ci:CIAccess"

// formerTypeTokens are the types this component had in stacks already
// deployed. The type is part of the URN of the component and of every child,
// so without these aliases a rename would make the engine replace the OIDC
// provider and the roles (internal/testkit/enginetest proves it does not).
var formerTypeTokens = []string{"ci-infra:ci:PipelineAccess"}

// Buildkite's OIDC issuer, and the audience the pipeline requests.
const (
	Issuer   = "https://agent.buildkite.com"
	Audience = "sts.amazonaws.com"
	// claimPrefix is how IAM names the issuer's claims in conditions.
	claimPrefix = "agent.buildkite.com"
)

// Step keys of .buildkite/pipeline.yml: the token's `sub` names the step, so
// only these steps can assume the roles.
const (
	PreviewStep = "preview"
	DeployStep  = "deploy"
	// DriftStep is the deploy pipeline's scheduled drift check
	// (scripts/ci-drift): a preview with --refresh, so it takes the
	// preview role, and writes nothing.
	DriftStep = "drift"
)

// AWS-managed policies (the same ARN in every account).
const (
	readOnlyPolicyARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
)

// Args configures the pipeline's access.
type Args struct {
	// Organization and Pipeline are the Buildkite slugs of this repository's
	// pipeline, e.g. "materialize" and "ci-infra".
	Organization string
	Pipeline     string
	// PreviewPipeline, when set, is the pipeline of the default cluster
	// whose preview step, on any branch and any agent, may assume the
	// preview role: every pull request's build that the gate lets run.
	// The role reads and denies every secret, so what a pull request's
	// program (or a rogue agent taking its job) gets is a read-only view.
	PreviewPipeline string
	// DeployBranch is the only branch whose builds may deploy, e.g. "main".
	DeployBranch string
	// DeployClusterID is the Buildkite cluster of the deploy agents, the
	// only agents whose tokens the roles trust. No token claim tells a
	// fork's build from a push, so the roles also require the cluster_id
	// session tag, which Buildkite's server fills in from the token the
	// agent registered with (ClusterTag), and those agents refuse every job
	// outside their allow-list (agent/bootstrap.sh). Empty: the roles trust
	// no token at all (NoCluster) until the operator sets it.
	DeployClusterID string
	// RoleNamePrefix starts both role names, e.g. "ci-infra-prod".
	RoleNamePrefix string
	// Preview is what the preview role reads: the reads of the main
	// stack's resource types, its objects and its state (PreviewPolicy).
	Preview PreviewScope
	// SecretParametersARN is what the preview role is denied besides every
	// object but its own: the path of every agent token, e.g.
	// arn:aws:ssm:us-east-1:*:parameter/ci-infra/prod/* (Scope.ParameterPathARN).
	SecretParametersARN string
	// ProviderImportID adopts an existing OIDC provider (its ARN): an account
	// has one provider per issuer.
	ProviderImportID string
	// UseExistingProvider declares no OIDC provider and trusts the one the
	// account already has for the issuer, which another stack manages (a
	// disaster-recovery stack beside production in one account).
	UseExistingProvider bool
	// Deploy is everything the deploy role may touch, by name;
	// DeployZoneIDs the zones it may write (Scope.ZoneIDs) and
	// DeployNetwork the network it may change (Scope.Network), which exist
	// only once the program made them.
	Deploy        Scope
	DeployZoneIDs pulumi.StringArrayInput
	DeployNetwork *NetworkIDs
	// Publish, when set, adds a role for another pipeline that publishes
	// release artifacts.
	Publish *Publish
	// Tags are added to the provider and the roles.
	Tags map[string]string
}

// Access is the provider and the two roles.
type Access struct {
	pulumi.ResourceState

	ProviderArn    pulumi.StringOutput `pulumi:"providerArn"`
	PreviewRoleArn pulumi.StringOutput `pulumi:"previewRoleArn"`
	DeployRoleArn  pulumi.StringOutput `pulumi:"deployRoleArn"`
	// StackServiceRoleArn is the role the agent stacks are deployed with
	// (their iamRoleArn).
	StackServiceRoleArn pulumi.StringOutput `pulumi:"stackServiceRoleArn"`
	// PublishRoleArn is the publishing pipeline's role, when there is one.
	PublishRoleArn pulumi.StringOutput `pulumi:"publishRoleArn"`
}

// NetworkIDs are the program's network, as its resources' outputs
// (components/network): the deploy role's Scope.Network once they exist.
type NetworkIDs struct {
	VpcID, RouteTableID, InternetGatewayID, EndpointID pulumi.StringInput
	SubnetIDs                                          pulumi.StringArrayInput
}

// Publish is the role of the pipeline that publishes release artifacts
// (the main repository's "deploy" pipeline, which uploads tarballs to the
// downloads bucket after a merge). Like the deploy role, it trusts only
// the deploy agents' tokens, whose guard runs only pushes of its branch at
// origin's head: the pipeline and branch must be on their allow-list.
type Publish struct {
	Pipeline, Branch string
	// BucketName is where it may put objects, and DistributionARN the
	// CloudFront distribution in front of it, whose cache it may invalidate.
	BucketName      string
	DistributionARN pulumi.StringInput
}

// PublishPolicy lets the publishing pipeline put, list and read objects of
// the downloads bucket and invalidate the distribution's cache, and
// nothing else.
func PublishPolicy(bucketName, distributionARN string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "InvalidateCache", Effect: "Allow", Action: []string{"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"},
			Resource: []string{distributionARN}},
		policydoc.Statement{Sid: "PutDownloads", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
			Resource: []string{"arn:aws:s3:::" + bucketName + "/*"}},
		policydoc.Statement{Sid: "ListDownloads", Effect: "Allow", Action: []string{"s3:ListBucket"},
			Resource: []string{"arn:aws:s3:::" + bucketName}},
	)
}

// Validate reports every problem of the arguments at once.
func (a Args) Validate() error {
	var errs []error
	for _, err := range []error{ValidateSlug("organization", a.Organization), ValidateSlug("pipeline", a.Pipeline), ValidateBranch(a.DeployBranch)} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if a.PreviewPipeline != "" {
		if err := ValidateSlug("pipeline", a.PreviewPipeline); err != nil {
			errs = append(errs, fmt.Errorf("PreviewPipeline: %w", err))
		}
		if a.PreviewPipeline == a.Pipeline {
			errs = append(errs, errors.New("PreviewPipeline must not be the deploy pipeline, whose previews run on the deploy agents"))
		}
	}
	if a.UseExistingProvider && a.ProviderImportID != "" {
		errs = append(errs, errors.New("ProviderImportID adopts a provider into this stack and UseExistingProvider leaves it to another: set one"))
	}
	if p := a.Publish; p != nil {
		if err := ValidateSlug("pipeline", p.Pipeline); err != nil {
			errs = append(errs, fmt.Errorf("Publish: %w", err))
		}
		if err := ValidateBranch(p.Branch); err != nil {
			errs = append(errs, fmt.Errorf("Publish: %w", err))
		}
		if p.BucketName == "" || p.DistributionARN == nil {
			errs = append(errs, errors.New("Publish.BucketName and DistributionARN are required"))
		}
	}
	if a.DeployClusterID != "" && !ident.IsClusterID(a.DeployClusterID) {
		errs = append(errs, fmt.Errorf("DeployClusterID %q must be %s", a.DeployClusterID, ident.ClusterRule))
	}
	if a.RoleNamePrefix == "" || len(a.RoleNamePrefix) > 48 {
		errs = append(errs, errors.New("RoleNamePrefix must be 1-48 characters (role names are at most 64)"))
	}
	if err := a.Deploy.Validate(); err != nil {
		errs = append(errs, err)
	}
	if a.SecretParametersARN == "" {
		errs = append(errs, errors.New("SecretParametersARN is required: the preview role must be denied them"))
	}
	if _, err := PreviewPolicy(a.Deploy, a.Preview); err != nil {
		errs = append(errs, fmt.Errorf("Preview: %w", err))
	}
	return errors.Join(errs...)
}

// ValidateSlug checks a Buildkite organization or pipeline slug; it is
// written into the roles' trust conditions.
func ValidateSlug(kind, s string) error {
	if !ident.IsPipelineSlug(s) {
		return fmt.Errorf("Buildkite %s %q must be a slug (%s)", kind, s, ident.SlugRule)
	}
	return nil
}

// ValidateBranch checks the deploy branch name.
func ValidateBranch(s string) error {
	if !ident.IsBranch(s) {
		return fmt.Errorf("deploy branch %q is not a branch name", s)
	}
	return nil
}

// Subject is the `sub` claim pattern a role trusts: builds of one step of
// one pipeline, on refs matching ref (an IAM StringLike pattern).
func Subject(org, pipeline, ref, step string) string {
	return fmt.Sprintf("organization:%s:pipeline:%s:ref:%s:commit:*:step:%s", org, pipeline, ref, step)
}

// ClusterTag is the session tag the roles require: the token's cluster_id,
// requested with `buildkite-agent oidc request-token --claim cluster_id
// --aws-session-tag cluster_id` (scripts/lib.sh).
//
// Why this claim. The agent sends only the names of the claims it wants
// (buildkite/agent clicommand/oidc_request_token.go posts Audience, Lifetime,
// Claims and AWSSessionTags to the agent API); Buildkite's server fills in
// their values for the job. Not every value is the server's own fact:
// agent_tag:* values are the tags the agent declared when it registered, so
// any holder of a registration token can start an agent with queue=deploy.
// cluster_id is the cluster whose agent token the agent registered with;
// cluster_name can be renamed. So only a token of an agent registered with
// the deploy cluster's token carries the deploy cluster's ID.
const ClusterTag = "cluster_id"

// NoCluster is the cluster_id the roles require while no deploy cluster is
// configured: not a UUID, so no token Buildkite issues carries it.
const NoCluster = "no-deploy-cluster-configured"

// TrustPolicy lets tokens of the Buildkite issuer whose audience is STS,
// whose subject matches subject and whose cluster_id session tag is
// clusterID (NoCluster when empty) assume the role. AWS requires a `sub`
// condition for this issuer; taking session tags needs sts:TagSession.
func TrustPolicy(providerARN, subject, clusterID string) policydoc.Document {
	return clusterTrust(providerARN, []string{subject}, clusterID)
}

// clusterTrust lets tokens whose subject matches any of subjects, issued
// to a job on an agent of the cluster clusterID, assume the role.
func clusterTrust(providerARN string, subjects []string, clusterID string) policydoc.Document {
	if clusterID == "" {
		clusterID = NoCluster
	}
	return policydoc.New(trustStatement("BuildkitePipelineStep", providerARN, subjects, map[string]any{"aws:RequestTag/" + ClusterTag: clusterID}))
}

// trustStatement lets tokens of the Buildkite issuer whose audience is STS
// and whose subject matches subject assume the role, when the request also
// carries the values of equals.
func trustStatement(sid, providerARN string, subjects []string, equals map[string]any) policydoc.Statement {
	eq := map[string]any{claimPrefix + ":aud": Audience}
	for k, v := range equals {
		eq[k] = v
	}
	return policydoc.Statement{
		Sid:       sid,
		Effect:    "Allow",
		Principal: map[string]any{"Federated": providerARN},
		Action:    []string{"sts:AssumeRoleWithWebIdentity", "sts:TagSession"},
		Condition: map[string]map[string]any{
			"StringEquals": eq,
			"StringLike":   {claimPrefix + ":sub": stringOrList(subjects)},
		},
	}
}

// PreviewTrustPolicy is the preview role's trust: the deploy pipeline's
// preview and drift steps on the deploy agents, and, when
// previewPipeline is set, the preview step of that pipeline on any ref,
// with no cluster condition: a pull request's build runs on the default
// cluster, whose agents any job that read their token can join.
func PreviewTrustPolicy(providerARN, org, deployPipeline, previewPipeline, clusterID string) policydoc.Document {
	doc := clusterTrust(providerARN, []string{
		Subject(org, deployPipeline, "refs/heads/*", PreviewStep),
		Subject(org, deployPipeline, "refs/heads/*", DriftStep),
	}, clusterID)
	if previewPipeline == "" {
		return doc
	}
	doc.Statement = append(doc.Statement, trustStatement("PullRequestPreview", providerARN, []string{Subject(org, previewPipeline, "*", PreviewStep)}, nil))
	return doc
}

// stringOrList is one condition value as a string, several as a list.
func stringOrList(values []string) any {
	if len(values) == 1 {
		return values[0]
	}
	return values
}

// previewDeny is the preview role's second inline policy: whatever a
// future grant or its boundary (ReadOnlyAccess) would allow, a preview
// (which runs the branch's code) never reaches a secret.
func previewDeny(ownObjects []string, secretParametersARN string) policydoc.Document {
	return policydoc.New(
		// Every read of an object's content or of its old versions, but of
		// the program's own objects and its state (PreviewObjects).
		policydoc.Statement{Sid: "NoOtherObjects", Effect: "Deny", Action: []string{"s3:GetObject*"}, NotResource: ownObjects},
		policydoc.Statement{Sid: "NoSecretParameters", Effect: "Deny", Action: []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"}, Resource: []string{secretParametersARN}},
		// SSM authorises GetParametersByPath against the path asked for, not
		// the parameters it returns: a read of /ci-infra, or of /, would
		// return the token. A preview needs no parameter by path.
		policydoc.Statement{Sid: "NoParametersByPath", Effect: "Deny", Action: []string{"ssm:GetParametersByPath"}, Resource: []string{"*"}},
		// Nor any decryption, through any service or directly: the stack a
		// preview reads holds nothing encrypted (its passphrase is empty),
		// and the secrets stack's state, which the preview can read from an
		// S3 backend, is ciphertext under a key it may not use.
		policydoc.Statement{Sid: "NoDecrypt", Effect: "Deny", Action: []string{"kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}, Resource: []string{"*"}},
		// Nor any secret another service keeps, whatever else allows it.
		policydoc.Statement{Sid: "NoSecretValues", Effect: "Deny", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{"*"}},
	)
}

// New declares the provider and the roles.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Access, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("ci access %s: %w", name, err)
	}
	a := &Access{}
	var aliases []pulumi.Alias
	for _, t := range formerTypeTokens {
		aliases = append(aliases, pulumi.Alias{Type: pulumi.String(t)})
	}
	opts = append(opts[:len(opts):len(opts)], pulumi.Aliases(aliases))
	if err := ctx.RegisterComponentResource(TypeToken, name, a, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(a)
	tags := pulumi.ToStringMap(args.Tags)

	providerArn, err := oidcProvider(ctx, name, args, parent, tags)
	if err != nil {
		return nil, err
	}

	trust := func(ref, step string) pulumi.StringOutput {
		return providerArn.ApplyT(func(arn string) (string, error) {
			return TrustPolicy(arn, Subject(args.Organization, args.Pipeline, ref, step), args.DeployClusterID).JSON()
		}).(pulumi.StringOutput)
	}

	previewTrust := providerArn.ApplyT(func(arn string) (string, error) {
		return PreviewTrustPolicy(arn, args.Organization, args.Pipeline, args.PreviewPipeline, args.DeployClusterID).JSON()
	}).(pulumi.StringOutput)
	preview, err := iam.NewRole(ctx, label.Name(name, "preview-role"), &iam.RoleArgs{
		Name:             pulumi.String(PreviewRoleName(args.RoleNamePrefix)),
		Description:      pulumi.String("pulumi preview from the preview step of every build the gate lets run: read-only, no secrets."),
		AssumeRolePolicy: previewTrust,
		// Whatever policy it is given, it reads and nothing more: the deploy
		// role may change it only while this boundary stays (DeployPolicy).
		PermissionsBoundary: pulumi.String(readOnlyPolicyARN),
		// One hour covers a preview; a stolen session dies soon.
		MaxSessionDuration: pulumi.Int(3600),
		Tags:               tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	// What it reads: the refresh reads of the stack's own resources and
	// its state, nothing else (PreviewPolicy), in place of ReadOnlyAccess.
	reads, err := PreviewPolicy(args.Deploy, args.Preview)
	if err != nil {
		return nil, err
	}
	readsJSON, err := reads.JSON()
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, label.Name(name, "preview-reads"), &iam.RolePolicyArgs{
		Role:   preview.Name,
		Policy: pulumi.String(readsJSON),
	}, parent); err != nil {
		return nil, err
	}
	ownObjects, err := PreviewObjects(args.Deploy, args.Preview)
	if err != nil {
		return nil, err
	}
	denyJSON, err := previewDeny(ownObjects, args.SecretParametersARN).JSON()
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, label.Name(name, "preview-no-secrets"), &iam.RolePolicyArgs{
		Role:   preview.Name,
		Policy: pulumi.String(denyJSON),
	}, parent); err != nil {
		return nil, err
	}

	deploy, err := iam.NewRole(ctx, label.Name(name, "deploy-role"), &iam.RoleArgs{
		Name:               pulumi.String(DeployRoleName(args.RoleNamePrefix)),
		Description:        pulumi.String("pulumi up from the deploy step of " + args.DeployBranch + " builds of the " + args.Pipeline + " pipeline, after a person unblocks it."),
		AssumeRolePolicy:   trust("refs/heads/"+args.DeployBranch, DeployStep),
		MaxSessionDuration: pulumi.Int(3600),
		Tags:               tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	// CloudFormation deploys the agent stacks with a role of its own, which
	// holds the template's permissions; the deploy role may only pass it
	// to CloudFormation for the pinned template (DeployPolicy).
	serviceTrust, err := ServiceRoleTrust().JSON()
	if err != nil {
		return nil, err
	}
	servicePolicy, err := StackServicePolicy(args.Deploy).JSON()
	if err != nil {
		return nil, err
	}
	serviceRole, err := iam.NewRole(ctx, label.Name(name, "stack-service-role"), &iam.RoleArgs{
		Name:             pulumi.String(ServiceRoleName(args.RoleNamePrefix)),
		Description:      pulumi.String("Assumed by CloudFormation only, to create and update the Elastic CI Stack agent stacks."),
		AssumeRolePolicy: pulumi.String(serviceTrust),
		Tags:             tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, label.Name(name, "stack-service"), &iam.RolePolicyArgs{
		Role:   serviceRole.Name,
		Policy: pulumi.String(servicePolicy),
	}, parent); err != nil {
		return nil, err
	}
	zones := pulumi.StringArray{}.ToStringArrayOutput()
	if args.DeployZoneIDs != nil {
		zones = args.DeployZoneIDs.ToStringArrayOutput()
	}
	network := pulumi.Output(pulumi.ToOutput(OwnNetwork{}))
	if n := args.DeployNetwork; n != nil {
		network = pulumi.All(n.VpcID, n.RouteTableID, n.InternetGatewayID, n.EndpointID, n.SubnetIDs).ApplyT(func(v []any) OwnNetwork {
			return OwnNetwork{VpcID: v[0].(string), RouteTableID: v[1].(string), InternetGatewayID: v[2].(string),
				EndpointID: v[3].(string), SubnetIDs: v[4].([]string)}
		})
	}
	deployJSON := pulumi.All(serviceRole.Arn, zones, network).ApplyT(func(v []any) (string, error) {
		scope := args.Deploy
		scope.ZoneIDs = v[1].([]string)
		scope.Network = v[2].(OwnNetwork)
		return DeployPolicy(scope, args.RoleNamePrefix, v[0].(string)).JSON()
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, label.Name(name, "deploy-scope"), &iam.RolePolicyArgs{
		Role:   deploy.Name,
		Policy: deployJSON,
	}, parent); err != nil {
		return nil, err
	}

	if p := args.Publish; p != nil {
		policy := p.DistributionARN.ToStringOutput().ApplyT(func(arn string) (string, error) {
			return PublishPolicy(p.BucketName, arn).JSON()
		}).(pulumi.StringOutput)
		// The most the publish role can ever do, whatever the deploy role
		// gives it: the deploy role can neither rewrite nor remove it.
		boundary, err := iam.NewPolicy(ctx, label.Name(name, "publish-boundary"), &iam.PolicyArgs{
			Name:        pulumi.String(PublishBoundaryName(args.RoleNamePrefix)),
			Description: pulumi.String("Permissions boundary of the " + p.Pipeline + " pipeline's publish role: the downloads bucket and its distribution."),
			Policy:      policy,
			Tags:        tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		publish, err := iam.NewRole(ctx, label.Name(name, "publish-role"), &iam.RoleArgs{
			Name:                pulumi.String(PublishRoleName(args.RoleNamePrefix)),
			PermissionsBoundary: boundary.Arn,
			Description:         pulumi.String("Release uploads from pushes to " + p.Branch + " of the " + p.Pipeline + " pipeline, on the deploy agents."),
			AssumeRolePolicy: providerArn.ApplyT(func(arn string) (string, error) {
				return TrustPolicy(arn, Subject(args.Organization, p.Pipeline, "refs/heads/"+p.Branch, "*"), args.DeployClusterID).JSON()
			}).(pulumi.StringOutput),
			MaxSessionDuration: pulumi.Int(3600),
			Tags:               tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := iam.NewRolePolicy(ctx, label.Name(name, "publish-downloads"), &iam.RolePolicyArgs{
			Role:   publish.Name,
			Policy: policy,
		}, parent); err != nil {
			return nil, err
		}
		a.PublishRoleArn = publish.Arn
	}
	a.ProviderArn = providerArn
	a.PreviewRoleArn = preview.Arn
	a.DeployRoleArn = deploy.Arn
	a.StackServiceRoleArn = serviceRole.Arn
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"providerArn": a.ProviderArn, "previewRoleArn": a.PreviewRoleArn, "deployRoleArn": a.DeployRoleArn,
		"stackServiceRoleArn": a.StackServiceRoleArn,
	}); err != nil {
		return nil, err
	}
	return a, nil
}

// oidcProvider declares the account's OIDC provider for the issuer, or
// finds the one another stack manages. One provider per issuer per account;
// AWS trusts the issuer's certificate authority itself, so no thumbprint is
// pinned.
func oidcProvider(ctx *pulumi.Context, name string, args Args, parent pulumi.ResourceOrInvokeOption, tags pulumi.StringMap) (pulumi.StringOutput, error) {
	if args.UseExistingProvider {
		existing, err := iam.LookupOpenIdConnectProvider(ctx, &iam.LookupOpenIdConnectProviderArgs{Url: pulumi.StringRef(Issuer)}, parent)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("finding the account's OIDC provider for %s, which another stack must manage: %w", Issuer, err)
		}
		return pulumi.String(existing.Arn).ToStringOutput(), nil
	}
	provider, err := iam.NewOpenIdConnectProvider(ctx, label.Name(name, "oidc-provider"), &iam.OpenIdConnectProviderArgs{
		Url:           pulumi.String(Issuer),
		ClientIdLists: pulumi.StringArray{pulumi.String(Audience)},
		Tags:          tags,
	}, parent, adopt.Option(args.ProviderImportID))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return provider.Arn, nil
}
