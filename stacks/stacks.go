// Package stacks owns the composition of a stack: it reads and validates the
// stack's config (config.go), then declares the components with typed Args
// and returns the outputs an operator needs. Components never read config;
// this package is the only one that does.
package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/components/agentstack"
	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/components/ciaccess"
	"mtrlz.dev/ci-infra/components/guardrails"
	"mtrlz.dev/ci-infra/components/label"
	"mtrlz.dev/ci-infra/components/network"
)

// MacOSTokenFile is where scripts/macos-agent-setup puts the gate's
// membership token on the macOS agent (the seed's Homebrew prefix).
const MacOSTokenFile = "/usr/local/etc/buildkite-agent/build-safety-github-token"

// Run is the Pulumi program: main hands it the context. The CLI passes the
// stack's whole config in PULUMI_CONFIG, so that keys the project does not
// declare are refused too.
func Run(ctx *pulumi.Context) error {
	keys, err := keysFromEnv()
	if err != nil {
		return err
	}
	outputs, err := Checked(keys)(ctx)
	if err != nil {
		return err
	}
	for name, value := range outputs {
		ctx.Export(name, value)
	}
	return nil
}

// Build declares every resource of the stack and returns its outputs. It
// returns a config error, naming the key, before declaring anything.
func Build(ctx *pulumi.Context) (pulumi.Map, error) {
	return build(ctx, nil)
}

// Checked is Build that also refuses, among keys (every key the stack
// sets), those of the project's namespace that Pulumi.yaml does not declare.
func Checked(keys []string) func(*pulumi.Context) (pulumi.Map, error) {
	return func(ctx *pulumi.Context) (pulumi.Map, error) { return build(ctx, keys) }
}

func build(ctx *pulumi.Context, keys []string) (pulumi.Map, error) {
	cfg, err := LoadConfig(ctx, keys)
	if err != nil {
		return nil, err
	}
	tags := label.Base(ctx.Project(), ctx.Stack())

	net, err := network.New(ctx, nameNetwork, network.Args{
		CIDR:              cfg.VpcCIDR,
		AvailabilityZones: cfg.Zones(),
		Region:            cfg.Region,
		Tags:              tags,
	})
	if err != nil {
		return nil, err
	}
	internal, err := network.NewZone(ctx, nameZone, network.ZoneArgs{
		Name:     cfg.InternalZoneName,
		VpcID:    net.VpcID,
		Region:   cfg.Region,
		Tags:     tags,
		ImportID: cfg.Adopt[nameZone],
	})
	if err != nil {
		return nil, err
	}
	store, err := declareStorage(ctx, cfg, tags)
	if err != nil {
		return nil, err
	}
	dl, err := declareDownloads(ctx, cfg, tags)
	if err != nil {
		return nil, err
	}
	access, err := declareAccess(ctx, cfg, tags, net, store, dl, internal.ZoneID)
	if err != nil {
		return nil, err
	}
	fleet, err := declareAgents(ctx, cfg, tags, net, store, access)
	if err != nil {
		return nil, err
	}
	// The macOS agent reads no secrets bucket: it gets the same gate as its
	// environment hook (scripts/macos-agent-setup), reading the membership
	// token from a local file.
	macosParams := cfg.EnvParams()
	macosParams.TokenURL, macosParams.TokenFile = "", MacOSTokenFile
	macosGate, err := agent.RenderEnv(macosParams)
	if err != nil {
		return nil, err
	}

	outputs := pulumi.Map{}
	if cfg.ManageGitHub {
		slug, err := declareGitHub(ctx, cfg)
		if err != nil {
			return nil, err
		}
		outputs["trustedTeamSlug"] = slug
	}
	buildkite, err := cfg.buildkiteSettingsMap()
	if err != nil {
		return nil, err
	}
	if cfg.SeparateSecrets {
		needed, err := toMap(store.needed)
		if err != nil {
			return nil, err
		}
		outputs["secretsNeeded"] = pulumi.ToMap(needed)
	}
	for name, value := range map[string]pulumi.Input{
		"ciPreviewRoleArn":          access.PreviewRoleArn,
		"ciDeployRoleArn":           access.DeployRoleArn,
		"publishRoleArn":            access.PublishRoleArn,
		"macosGateHook":             pulumi.String(macosGate),
		"nextSteps":                 nextSteps(ctx.Stack(), cfg, access, dl.site),
		"vpcId":                     net.VpcID,
		"subnetIds":                 net.SubnetIDs,
		"agentsStackName":           fleet.agents.StackName,
		"buildersStackName":         fleet.builders.StackName,
		"deployStackName":           fleet.deployers.StackName,
		"deploySigningKeyId":        fleet.deployers.SigningKeyID,
		"buildkiteSettings":         pulumi.ToMap(buildkite),
		"configBucketName":          store.config.Name,
		"secretsBucketName":         store.secrets.Name,
		"secretsLogBucketName":      store.secretsLogs.Name,
		"bootstrapScriptUrl":        store.config.ObjectURLs[agent.BootstrapKey],
		"agentPolicyArn":            store.policy.Arn,
		"agentTokenParameter":       store.tokenPath,
		"internalZoneId":            internal.ZoneID,
		"downloadsBucketName":       dl.bucket.Name,
		"downloadsUrl":              dl.site.URL,
		"downloadsValidationRecord": dl.site.ValidationRecord,
	} {
		outputs[name] = value
	}
	return outputs, nil
}

// storage is what the agents read at boot and before every job.
type storage struct {
	secretsLogs, secrets, config *bucket.Bucket
	policy                       *agentstack.AgentPolicy
	// The token parameters' names and ARNs: the default cluster's, and the
	// deploy cluster's, which the deploy agents alone read.
	tokenPath, deployTokenPath pulumi.StringInput
	tokenARN, deployTokenARN   pulumi.StringInput
	tokenDir                   string // the SSM path the deploy role may write
	// needed is where each secret goes; with separateSecrets another
	// stack writes them there.
	needed SecretsNeeded
}

// declareStorage declares the secrets bucket (the build-safety gate, the
// SSH key, the gate's and Docker Hub's credentials) with its access logs,
// the config bucket with the bootstrap script, the agents' IAM policy, and
// the agent token's parameter.
func declareStorage(ctx *pulumi.Context, cfg *Config, tags map[string]string) (*storage, error) {
	var s storage
	var err error
	// Who read which secret, and when: the secrets bucket logs every access
	// into a bucket of its own.
	s.secretsLogs, err = bucket.New(ctx, nameSecretsLogs, bucket.Args{
		Name:           cfg.SecretsLogBucketName(),
		AcceptLogsFrom: []string{cfg.SecretsBucketName()},
		ImportID:       cfg.Adopt[nameSecretsLogs],
		Protect:        true,
		Tags:           label.Merge(tags, map[string]string{"role": "access-logs"}),
	})
	if err != nil {
		return nil, err
	}

	// The build-safety hook: the secrets hook of every agent sources the
	// `env` object before every step. Its content is reviewable in the plan;
	// the token it uses is a separate secret object.
	hook, err := agent.RenderEnv(cfg.EnvParams())
	if err != nil {
		return nil, err
	}
	s.tokenDir = fmt.Sprintf("/%s/%s/", ctx.Project(), ctx.Stack())
	s.needed = cfg.secretsNeeded(s.tokenDir)
	// Its secret objects too, unless another stack writes them
	// (separateSecrets): then this stack holds no secret value at all.
	secretObjects := []bucket.Object{
		{Key: agent.EnvKey, Content: pulumi.String(hook), ContentType: "text/x-shellscript"},
	}
	if !cfg.SeparateSecrets {
		secretObjects = append(secretObjects, s.needed.objects(cfg.secretValue)...)
	}
	s.secrets, err = bucket.New(ctx, nameSecrets, bucket.Args{
		Name:       cfg.SecretsBucketName(),
		Versioned:  true,
		AccessLogs: &bucket.AccessLogs{Bucket: s.secretsLogs.Name, Prefix: cfg.SecretsBucketName() + "/"},
		Objects:    secretObjects,
		ImportID:   cfg.Adopt[nameSecrets],
		Protect:    true,
		Tags:       label.Merge(tags, secretsRole),
	})
	if err != nil {
		return nil, err
	}

	// What the deploy agents run: this repository's deploys; the main
	// repository's release builds, pushes of its release branch (built
	// here, out of every default job's reach); and the publishing of their
	// artifacts, only as the release pipeline triggers it.
	allow := []agent.DeployTarget{{Pipeline: cfg.CIDeployPipeline, Branch: cfg.CIDeployBranch}}
	if cfg.PublishPipeline != "" {
		allow = append(allow,
			agent.DeployTarget{Pipeline: cfg.ReleasePipeline, Branch: cfg.PublishBranch},
			agent.DeployTarget{Pipeline: cfg.PublishPipeline, Branch: cfg.CIDeployBranch, TriggeredBy: cfg.ReleasePipeline})
	}
	bootstrap, err := agent.RenderBootstrap(agent.BootstrapParams{DeployQueue: cfg.AgentStacks.Deploy.Queue, Allow: allow, Plugins: agent.DeployPlugins})
	if err != nil {
		return nil, err
	}
	s.config, err = bucket.New(ctx, nameConfig, bucket.Args{
		Name:      cfg.ConfigBucketName(),
		Versioned: true,
		Objects: []bucket.Object{
			{Key: agent.BootstrapKey, Content: pulumi.String(bootstrap), ContentType: "text/x-shellscript"},
		},
		ImportID: cfg.Adopt[nameConfig],
		Protect:  true,
		Tags:     label.Merge(tags, map[string]string{"role": "config"}),
	})
	if err != nil {
		return nil, err
	}

	s.policy, err = agentstack.NewPolicy(ctx, nameAgentPolicy, agentstack.PolicyArgs{
		Name:               cfg.AgentPolicyName,
		BootstrapObjectARN: s.config.ObjectARNs[agent.BootstrapKey],
		Tags:               tags,
		ImportID:           cfg.Adopt[nameAgentPolicy],
	})
	if err != nil {
		return nil, err
	}

	if cfg.SeparateSecrets {
		// The parameters are the ci-infra-secrets stack's; their names and
		// ARNs are derived (IAM evaluates "*" as this account).
		s.tokenPath = pulumi.String(s.needed.tokenPath("buildkiteAgentToken"))
		s.deployTokenPath = pulumi.String(s.needed.tokenPath("buildkiteDeployAgentToken"))
		s.tokenARN = pulumi.String(parameterARN(cfg.Region, s.needed.tokenPath("buildkiteAgentToken")))
		s.deployTokenARN = pulumi.String(parameterARN(cfg.Region, s.needed.tokenPath("buildkiteDeployAgentToken")))
		return &s, nil
	}
	tokens, err := s.needed.declareTokens(ctx, cfg.secretValue, tags, false)
	if err != nil {
		return nil, err
	}
	s.tokenPath, s.tokenARN = tokens["buildkiteAgentToken"].Path, tokens["buildkiteAgentToken"].Arn
	s.deployTokenPath, s.deployTokenARN = tokens["buildkiteDeployAgentToken"].Path, tokens["buildkiteDeployAgentToken"].Arn
	return &s, nil
}

// downloads is https://downloads.mtrlz.dev.
type downloads struct {
	site   *bucket.Site
	bucket *bucket.Bucket
}

// declareDownloads declares the private downloads bucket behind CloudFront.
// The site comes first: the bucket lets its distribution read, and the
// publish role may invalidate it.
func declareDownloads(ctx *pulumi.Context, cfg *Config, tags map[string]string) (*downloads, error) {
	site, err := bucket.NewSite(ctx, nameDownloadSite, bucket.SiteArgs{
		Domain:            cfg.DownloadsDomain,
		BucketName:        cfg.DownloadsBucketName,
		BucketRegion:      cfg.Region,
		PublicZoneID:      cfg.PublicZoneID,
		CertificateIssued: cfg.DownloadsCertificateIssued,
		LogRetentionDays:  90,
		Tags:              label.Merge(tags, map[string]string{"role": "downloads"}),
	})
	if err != nil {
		return nil, err
	}
	b, err := bucket.New(ctx, nameDownloads, bucket.Args{
		Name:                  cfg.DownloadsBucketName,
		ReaderDistributionARN: site.DistributionArn,
		Versioned:             true,
		NoncurrentVersionDays: cfg.DownloadsNoncurrentVersionDays,
		ImportID:              cfg.Adopt[nameDownloads],
		Protect:               true,
		Tags:                  label.Merge(tags, map[string]string{"role": "downloads"}),
	})
	if err != nil {
		return nil, err
	}
	return &downloads{site: site, bucket: b}, nil
}

// declareAccess declares how pipelines get AWS credentials: the OIDC
// provider, the preview, deploy and publish roles, and the agent stacks'
// CloudFormation service role.
func declareAccess(ctx *pulumi.Context, cfg *Config, tags map[string]string, net *network.Network, store *storage, dl *downloads, internalZoneID pulumi.StringOutput) (*ciaccess.Access, error) {
	// The zones the deploy writes: the private zone, and the public one
	// when the downloads site's records are managed here.
	zones := pulumi.StringArray{internalZoneID}
	if cfg.PublicZoneID != "" {
		zones = append(zones, pulumi.String(cfg.PublicZoneID))
	}
	deployScope := ciaccess.Scope{
		Region:          cfg.Region,
		Buckets:         []string{cfg.ConfigBucketName(), cfg.SecretsBucketName(), cfg.SecretsLogBucketName(), cfg.DownloadsBucketName},
		AgentPolicyName: cfg.AgentPolicyName,
		ParameterPath:   store.tokenDir,
		AgentStacks:     cfg.AgentStacks.StackNames(),
		TemplateURL:     agentstack.TemplateURL(cfg.ElasticStackVersion),
		AgentBoundaries: []string{agentBoundaryName(ctx), deployAgentBoundaryName(ctx)},
		StateBackend:    cfg.StateBackendURL,
	}
	return ciaccess.New(ctx, nameCIAccess, ciaccess.Args{
		Organization:        cfg.BuildkiteOrg,
		Pipeline:            cfg.CIDeployPipeline,
		PreviewPipeline:     cfg.CIPipeline,
		DeployBranch:        cfg.CIDeployBranch,
		DeployClusterID:     cfg.DeployClusterID,
		RoleNamePrefix:      label.Name(ctx.Project(), ctx.Stack()),
		SecretParametersARN: deployScope.ParameterPathARN(),
		Preview: ciaccess.PreviewScope{
			Types:   mainStackTypes,
			Objects: []string{cfg.ConfigBucketName() + "/" + agent.BootstrapKey, cfg.SecretsBucketName() + "/" + agent.EnvKey},
			Project: ctx.Project(),
		},
		ProviderImportID:    cfg.Adopt[nameCIAccess],
		UseExistingProvider: !cfg.ManageOIDCProvider,
		Deploy:              deployScope,
		DeployZoneIDs:       zones,
		DeployNetwork: &ciaccess.NetworkIDs{VpcID: net.VpcID, RouteTableID: net.RouteTableID, InternetGatewayID: net.InternetGatewayID,
			EndpointID: net.EndpointID, SubnetIDs: net.SubnetIDs},
		Publish: publish(cfg, dl.site.DistributionArn),
		Tags:    tags,
	})
}

// mainStackTypes are the AWS resource types the main stack declares: what
// the preview role may refresh (ciaccess.PreviewPolicy). A test keeps it
// equal to the types of every committed stack's plan, so a new type cannot
// arrive without its reads.
var mainStackTypes = []string{
	"aws:acm/certificate:Certificate",
	"aws:cloudformation/stack:Stack",
	"aws:cloudfront/cachePolicy:CachePolicy",
	"aws:cloudfront/distribution:Distribution",
	"aws:cloudfront/originAccessControl:OriginAccessControl",
	"aws:cloudwatch/logDelivery:LogDelivery",
	"aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination",
	"aws:cloudwatch/logDeliverySource:LogDeliverySource",
	"aws:cloudwatch/logGroup:LogGroup",
	"aws:ec2/internetGateway:InternetGateway",
	"aws:ec2/routeTable:RouteTable",
	"aws:ec2/routeTableAssociation:RouteTableAssociation",
	"aws:ec2/subnet:Subnet",
	"aws:ec2/vpc:Vpc",
	"aws:ec2/vpcEndpoint:VpcEndpoint",
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider",
	"aws:iam/policy:Policy",
	"aws:iam/role:Role",
	"aws:iam/rolePolicy:RolePolicy",
	"aws:route53/zone:Zone",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
	"aws:s3/bucketLoggingV2:BucketLoggingV2",
	"aws:s3/bucketObjectv2:BucketObjectv2",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls",
	"aws:s3/bucketPolicy:BucketPolicy",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
	"aws:s3/bucketV2:BucketV2",
	"aws:s3/bucketVersioningV2:BucketVersioningV2",
}

// agentFleet is the agent stacks an operator looks up by name.
type agentFleet struct {
	agents, builders, deployers *agentstack.AgentStack
}

// declareAgents declares the Elastic CI Stacks: the test agents, the
// builders (a warm baseline and burst capacity), and the deploy agents.
func declareAgents(ctx *pulumi.Context, cfg *Config, tags map[string]string, net *network.Network, store *storage, access *ciaccess.Access) (*agentFleet, error) {
	var f agentFleet
	var err error
	// Each cluster's instances are bounded away from the other cluster's
	// token, from IAM writes and from signing (agentstack.BoundaryDocument).
	agentBoundary, err := agentstack.NewBoundary(ctx, nameAgentBoundary, agentstack.BoundaryArgs{
		Name:                agentBoundaryName(ctx),
		DeniedParameterARNs: []pulumi.StringInput{store.deployTokenARN},
		Tags:                tags,
	})
	if err != nil {
		return nil, err
	}
	deployBoundary, err := agentstack.NewBoundary(ctx, nameDeployAgentBoundary, agentstack.BoundaryArgs{
		Name:                deployAgentBoundaryName(ctx),
		DeniedParameterARNs: []pulumi.StringInput{store.tokenARN},
		Tags:                tags,
	})
	if err != nil {
		return nil, err
	}
	shared := agentstack.Args{
		TemplateVersion:    cfg.ElasticStackVersion,
		KeyName:            cfg.AgentKeyName,
		Region:             cfg.Region,
		ManagedPolicyARN:   store.policy.Arn,
		BootstrapScriptURL: store.config.ObjectURLs[agent.BootstrapKey],
		SecretsBucket:      store.secrets.Name,
		AgentTokenPath:     store.tokenPath,
		VpcID:              net.VpcID,
		SubnetIDs:          net.SubnetIDs,
		ServiceRoleARN:     access.StackServiceRoleArn,

		InstanceRoleBoundaryARN: agentBoundary.Arn,
	}
	stacks := cfg.AgentStacks
	agentsArgs := stacks.Test.args(shared)
	agentsArgs.ImportID = cfg.Adopt[nameAgents]
	agentsArgs.Tags = label.Merge(tags, map[string]string{"role": "test-agents"})
	if f.agents, err = agentstack.New(ctx, nameAgents, agentsArgs); err != nil {
		return nil, err
	}

	// The seed's "min 1, max 2" builders, as two stacks on one queue
	// (chosen with cmd/fleet; docs/decisions.md, "How the builders keep their cache"):
	// a fixed baseline that keeps its warm cache, and burst capacity that
	// leaves when idle. One group cannot do both: its scaler or its ASG
	// would pick which builder goes, running job or warm cache included.
	buildersArgs, burstArgs := stacks.Builders.args(shared)
	buildersArgs.ImportID = cfg.Adopt[nameBuilders]
	buildersArgs.Tags = label.Merge(tags, map[string]string{"role": "builders"})
	if f.builders, err = agentstack.New(ctx, nameBuilders, buildersArgs); err != nil {
		return nil, err
	}
	if burstArgs != nil {
		burstArgs.Tags = label.Merge(tags, map[string]string{"role": "builders-burst"})
		if _, err := agentstack.New(ctx, nameBuildersBurst, *burstArgs); err != nil {
			return nil, err
		}
	}

	// The deploy agents run this repository's deploys (and nothing else):
	// one small instance, only while a deploy waits. Their stack is not
	// updated by the deploys it runs (scripts/ci-up excludes it), since an
	// update that reaches the launch template replaces the instance that
	// runs the update.
	deployArgs := stacks.Deploy.args(shared)
	deployArgs.InstanceRoleBoundaryARN = deployBoundary.Arn
	// The deploy cluster's token: no other stack's instance role can read
	// it, so no job elsewhere can start an agent in that cluster.
	deployArgs.AgentTokenPath = store.deployTokenPath
	deployArgs.ImportID = cfg.Adopt[nameDeployers]
	deployArgs.Tags = label.Merge(tags, map[string]string{"role": "deploy-agents"})
	if f.deployers, err = agentstack.New(ctx, nameDeployers, deployArgs); err != nil {
		return nil, err
	}
	return &f, nil
}

// declareGitHub declares the trusted team and the repositories' guardrails.
// GitHub lives outside the AWS account, so exactly one stack manages it
// (see manageGitHub).
func declareGitHub(ctx *pulumi.Context, cfg *Config) (pulumi.StringOutput, error) {
	trusted, err := guardrails.NewTeam(ctx, nameTeam, guardrails.TeamArgs{
		Name:        cfg.TrustedTeamName,
		Description: "May run builds of their forks on the Buildkite agents. Managed by the ci-infra Pulumi program.",
		Members:     cfg.TrustedTeamMembers,
		Maintainers: cfg.TrustedTeamMaintainers,
		ImportID:    cfg.Adopt[nameTeam],
	})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	var webhookSecret pulumi.StringInput
	if cfg.WebhookSecret != nil {
		webhookSecret = *cfg.WebhookSecret
	}
	for _, repo := range cfg.Repositories {
		if _, err := guardrails.New(ctx, label.Name("guardrails", repo.Name), repo.guardrails(webhookSecret, cfg.AdoptGuardrails)); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return trusted.Slug, nil
}

// secretsRole tags the secrets bucket and its objects, in whichever stack
// writes them.
var secretsRole = map[string]string{"role": "secrets"}

// publish is the publish role's config, or nil.
func publish(cfg *Config, distributionARN pulumi.StringOutput) *ciaccess.Publish {
	if cfg.PublishPipeline == "" {
		return nil
	}
	return &ciaccess.Publish{Pipeline: cfg.PublishPipeline, Branch: cfg.CIDeployBranch, BucketName: cfg.DownloadsBucketName, DistributionARN: distributionARN}
}

// The instance roles' boundaries, by name: the agent stacks use them, and
// the service role sets no other.
func agentBoundaryName(ctx *pulumi.Context) string {
	return label.Name(ctx.Project(), ctx.Stack(), nameAgentBoundary)
}

func deployAgentBoundaryName(ctx *pulumi.Context) string {
	return label.Name(ctx.Project(), ctx.Stack(), nameDeployAgentBoundary)
}
