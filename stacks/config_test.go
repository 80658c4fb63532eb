package stacks

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

// badConfig runs the program with the production config changed by edit and
// returns the error, after checking that nothing was registered. Keys
// Pulumi.yaml does not declare are refused, as under the CLI. The
// stack holds its secrets (separateSecrets false), so that the rows about
// a missing or plaintext secret apply; the others hold in both layouts.
func badConfig(t *testing.T, edit func(cfg map[string]string, secrets *[]string)) error {
	t.Helper()
	opts := plantest.SecretsInStackOptions(t, "prod")
	edit(opts.Config, &opts.Secrets)
	p, err := plan.Run(Checked(slices.Collect(maps.Keys(opts.Config))), opts)
	require.Error(t, err)
	assert.Empty(t, p.Registered(), "bad config touches nothing")
	return err
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	set := func(key, value string) func(map[string]string, *[]string) {
		return func(c map[string]string, _ *[]string) { c[key] = value }
	}
	setPath := func(path string, value any) func(map[string]string, *[]string) {
		return func(c map[string]string, _ *[]string) { plantest.SetPath(t, c, "ci-infra:agentStacks", path, value) }
	}
	unset := func(key string) func(map[string]string, *[]string) {
		return func(c map[string]string, _ *[]string) { delete(c, key) }
	}
	tests := []struct {
		name     string
		edit     func(map[string]string, *[]string)
		wantKey  string
		wantText string
	}{
		{"min above max", setPath("builders.minSize", 6), "ci-infra:agentStacks.builders.maxSize", "must be >= MinSize (6), got 5"},
		{"negative min", setPath("test.minSize", -1), "ci-infra:agentStacks.test.minSize", "must be >= 0"},
		{"a schedule that is not cron", setPath("builders.burst.workingHours.start", "at nine"), "ci-infra:agentStacks.builders.burst.workingHours.start", "want 5 fields"},
		{"an hour out of range", setPath("builders.burst.workingHours.end", "0 25 * * MON-FRI"), "ci-infra:agentStacks.builders.burst.workingHours.end", "out of range"},
		{"an unknown time zone", setPath("builders.burst.workingHours.timezone", "Mars/Olympus"), "ci-infra:agentStacks.builders.burst.workingHours.timezone", "not an IANA time zone"},
		{"more working-hours builders than burst builders", setPath("builders.burst.workingHours.minSize", 5), "ci-infra:agentStacks.builders.burst.workingHours.minSize", "must be 0..4"},
		{"zero max", setPath("test.maxSize", 0), "ci-infra:agentStacks.test.maxSize", "must be >= 1"},
		{"above the ceiling", setPath("test.maxSize", 41), "ci-infra:agentStacks.test.maxSize", "must be at most 40 (agentstack.MaxSizeCeiling"},
		{"builders above the ceiling", setPath("builders.maxSize", 41), "ci-infra:agentStacks.builders.maxSize", "must be at most 40"},
		{"a test buffer above the size", setPath("test.instanceBuffer", 41), "ci-infra:agentStacks.test.instanceBuffer", "must be 0..test.maxSize (40)"},
		{"a burst buffer above the burst", setPath("builders.burst.instanceBuffer", 5), "ci-infra:agentStacks.builders.burst.instanceBuffer", "must be 0..4"},
		{"size not a number", setPath("test.maxSize", "ten"), "ci-infra:agentStacks.test.maxSize", `must be a whole number, got "ten"`},
		{"size not whole", setPath("test.maxSize", 2.5), "ci-infra:agentStacks.test.maxSize", "must be a whole number, got 2.5"},
		{"a misspelt field", setPath("test.maxsize", 30), "ci-infra:agentStacks.test.maxsize", "is not a field of agentStacks.test; did you mean maxSize?"},
		{"a misspelt stack", setPath("tests.maxSize", 30), "ci-infra:agentStacks.tests", "did you mean test?"},
		{"a stack that is not an object", set("ci-infra:agentStacks", `{"test": 30}`), "ci-infra:agentStacks.test", "must be an object with the fields stackName, queue"},
		{"agent stacks not an object", set("ci-infra:agentStacks", `[1]`), "ci-infra:agentStacks", "must be an object"},
		{"a flag that is not a boolean", setPath("test.scaleOutForWaitingJobs", "yes"), "ci-infra:agentStacks.test.scaleOutForWaitingJobs", "must be true or false"},
		{"unknown instance type", setPath("test.instanceTypes", []string{"c5.2xlarge", "z9.mega"}), "ci-infra:agentStacks.test.instanceTypes", `"z9.mega" has no price`},
		{"instance types not a list", setPath("builders.instanceTypes", "c5.2xlarge"), "ci-infra:agentStacks.builders.instanceTypes", "must be a list"},
		{"empty instance types", setPath("builders.instanceTypes", []string{}), "ci-infra:agentStacks.builders.instanceTypes", "1 to 25"},
		{"a deploy type without a price", setPath("deploy.instanceType", "z9.mega"), "ci-infra:agentStacks.deploy.instanceType", `"z9.mega" has no price`},
		{"an idle deploy agent kept forever", setPath("deploy.scaleInIdleSeconds", 0), "ci-infra:agentStacks.deploy.scaleInIdleSeconds", "at least 60"},
		{"idle burst builders kept forever", setPath("builders.burst.scaleInIdleSeconds", 10), "ci-infra:agentStacks.builders.burst.scaleInIdleSeconds", "at least 60"},
		{"a negative cooldown", setPath("builders.burst.scaleOutCooldownSeconds", -1), "ci-infra:agentStacks.builders.burst.scaleOutCooldownSeconds", "0 or more"},
		{"an old flat key", set("ci-infra:agentsMaxSize", "30"), "ci-infra:agentsMaxSize", "moved into ci-infra:agentStacks: run `pulumi config rm agentsMaxSize`, then `pulumi config set --path agentStacks.test.maxSize <its value>`"},
		{"an old key that became two", set("ci-infra:scaleOutCooldownSeconds", "0"), "ci-infra:scaleOutCooldownSeconds", "and `pulumi config set --path agentStacks.builders.burst.scaleOutCooldownSeconds <its value>`"},
		{"a path set without --path", set("ci-infra:agentStacks.test.maxSize", "30"), "ci-infra:agentStacks.test.maxSize", "is a key of its own, not the field test.maxSize of ci-infra:agentStacks: run `pulumi config rm 'agentStacks.test.maxSize'`, then `pulumi config set --path agentStacks.test.maxSize <value>`"},
		{"empty zone", set("ci-infra:internalZoneName", ""), "ci-infra:internalZoneName", "empty"},
		{"malformed zone", set("ci-infra:internalZoneName", "internal mtrlz dev"), "ci-infra:internalZoneName", "two labels"},
		{"zone with scheme", set("ci-infra:internalZoneName", "https://internal.mtrlz.dev"), "ci-infra:internalZoneName", "label"},
		{"suffix with capitals", set("ci-infra:bucketSuffix", "Mtrlz"), "ci-infra:bucketSuffix", "no capitals"},
		{"suffix with dots", set("ci-infra:bucketSuffix", "mtrlz.dev"), "ci-infra:bucketSuffix", "no dots"},
		{"suffix too long", set("ci-infra:bucketSuffix", "a-very-long-suffix-that-pushes-the-log-bucket-past-63"), "ci-infra:bucketSuffix", "3 to 63"},
		{"suffix missing", unset("ci-infra:bucketSuffix"), "ci-infra:bucketSuffix", "pulumi config set bucketSuffix"},
		{"downloads bucket malformed", set("ci-infra:downloadsBucketName", "Downloads.mtrlz.dev"), "ci-infra:downloadsBucketName", "lowercase"},
		{"token missing", unset("ci-infra:buildkiteAgentToken"), "ci-infra:buildkiteAgentToken", "pulumi config set --secret buildkiteAgentToken"},
		{"deploy token missing", unset("ci-infra:buildkiteDeployAgentToken"), "ci-infra:buildkiteDeployAgentToken", "pulumi config set --secret buildkiteDeployAgentToken"},
		{"deploy cluster not a UUID", set("ci-infra:deployClusterId", "deploy"), "ci-infra:deployClusterId", "lowercase UUID"},
		{"ssh key missing", unset("ci-infra:agentSshPrivateKey"), "ci-infra:agentSshPrivateKey", "pulumi config set --secret agentSshPrivateKey"},
		{"token in plain text", func(c map[string]string, s *[]string) {
			*s = []string{"ci-infra:agentSshPrivateKey"}
		}, "ci-infra:buildkiteAgentToken", "plain text"},
		{"unpinned template", set("ci-infra:elasticStackVersion", "latest"), "ci-infra:elasticStackVersion", "not pinned"},
		{"template without contract", set("ci-infra:elasticStackVersion", "v7.0.0"), "ci-infra:elasticStackVersion", "no parameter contract"},
		{"region malformed", set("aws:region", "useast1"), "aws:region", "not an AWS region"},
		{"region not priced", set("aws:region", "ap-south-2"), "aws:region", "no prices"},
		{"duplicate queues", setPath("builders.queue", "default"), "ci-infra:agentStacks.builders.queue", "also test.queue"},
		{"the deploy queue shared", setPath("test.queue", "deploy"), "ci-infra:agentStacks.deploy.queue", "the CI roles trust this queue alone"},
		{"duplicate stack names", setPath("builders.stackName", "buildkite"), "ci-infra:agentStacks.builders.stackName", "also test.stackName"},
		{"the burst stack named as the deploy stack", setPath("builders.burst.stackName", "buildkite-deploy"), "ci-infra:agentStacks.deploy.stackName", "also builders.burst.stackName"},
		{"builders without baseline", setPath("builders.minSize", 0), "ci-infra:agentStacks.builders.minSize", "warm build cache"},
		{"idle forever", setPath("test.scaleInIdleSeconds", 0), "ci-infra:agentStacks.test.scaleInIdleSeconds", "at least 60"},
		{"public vpc", set("ci-infra:vpcCidr", "8.8.0.0/16"), "ci-infra:vpcCidr", "private"},
		{"one zone", set("ci-infra:availabilityZones", `["us-east-1a"]`), "ci-infra:availabilityZones", "at least two"},
		{"zone of another region", set("ci-infra:availabilityZones", `["us-east-1a","eu-west-1b"]`), "ci-infra:availabilityZones", "not a zone of us-east-1"},
		{"bad policy name", set("ci-infra:agentPolicyName", "buildkite agent"), "ci-infra:agentPolicyName", "policy name"},
		{"bad stack name", setPath("test.stackName", "build_kite"), "ci-infra:agentStacks.test.stackName", "stack name"},
		{"queue with shell metacharacters", setPath("test.queue", "default;rm"), "ci-infra:agentStacks.test.queue", "letters, digits"},
		{"deploy queue with shell metacharacters", setPath("deploy.queue", "deploy;rm"), "ci-infra:agentStacks.deploy.queue", "letters, digits"},
		{"spot share above 100", setPath("test.onDemandPercentage", 150), "ci-infra:agentStacks.test.onDemandPercentage", "0 to 100"},
		{"negative spot share", setPath("builders.onDemandPercentage", -5), "ci-infra:agentStacks.builders.onDemandPercentage", "0 to 100"},
		{"burst spot share above 100", setPath("builders.burst.onDemandPercentage", 101), "ci-infra:agentStacks.builders.burst.onDemandPercentage", "0 to 100"},
		{"buildkite org missing", unset("ci-infra:buildkiteOrg"), "ci-infra:buildkiteOrg", "pulumi config set buildkiteOrg"},
		{"buildkite org malformed", set("ci-infra:buildkiteOrg", "Materialize Inc"), "ci-infra:buildkiteOrg", "must be a slug"},
		{"pipeline with a wildcard", set("ci-infra:ciPipeline", "ci-*"), "ci-infra:ciPipeline", "must be a slug"},
		{"deploy branch with a wildcard", set("ci-infra:ciDeployBranch", "*"), "ci-infra:ciDeployBranch", "not a branch name"},
		{"org malformed", set("github:owner", "Materialize Inc"), "github:owner", "not a GitHub organisation login"},
		{"member with shell metacharacters", set("ci-infra:trustedTeamMembers", `["alice","$(curl evil)"]`), "ci-infra:trustedTeamMembers", "not a GitHub username"},
		{"member listed twice", set("ci-infra:trustedTeamMembers", `["alice","Alice"]`), "ci-infra:trustedTeamMembers", "listed twice"},
		{"person with two roles", func(c map[string]string, _ *[]string) {
			c["ci-infra:trustedTeamMembers"] = `["alice"]`
			c["ci-infra:trustedTeamMaintainers"] = `["alice"]`
		}, "ci-infra:trustedTeamMaintainers", "one role"},
		{"members not a list", set("ci-infra:trustedTeamMembers", "alice,bob"), "ci-infra:trustedTeamMembers", "list of strings"},
		{"fork builds without the membership token", unset("ci-infra:buildSafetyGithubToken"), "ci-infra:buildSafetyGithubToken", "is needed when forkBuildsFromTeam is true, its default"},
		{"fork builds without a token", func(c map[string]string, s *[]string) {
			c["ci-infra:forkBuildsFromTeam"] = "true"
			c["ci-infra:trustedTeamMembers"] = `["alice"]`
			delete(c, "ci-infra:buildSafetyGithubToken")
		}, "ci-infra:buildSafetyGithubToken", "pulumi config set --secret buildSafetyGithubToken"},
		{"fork builds not a boolean", set("ci-infra:forkBuildsFromTeam", "yes"), "ci-infra:forkBuildsFromTeam", "true or false"},
		{"team name not a slug", set("ci-infra:trustedTeamName", "Build Authorized"), "ci-infra:trustedTeamName", "team slug"},
		{"api over http", set("ci-infra:githubApiUrl", "http://api.github.com"), "ci-infra:githubApiUrl", "https"},
		{"webhook over http", set("ci-infra:repositories", `[{"name":"smokey","defaultBranch":"master","requiredChecks":["ci"],"webhooks":[{"url":"http://deployer.example.com","events":["push"]}]}]`), "ci-infra:repositories", "must use https"},
		{"webhook without a secret", func(c map[string]string, _ *[]string) {
			c["ci-infra:repositories"] = `[{"name":"smokey","defaultBranch":"master","requiredChecks":["ci"],"webhooks":[{"url":"https://deployer.example.com","events":["push"]}]}]`
			delete(c, "ci-infra:webhookSecret")
		}, "ci-infra:webhookSecret", "pulumi config set --secret webhookSecret"},
		{"repository field misspelt", set("ci-infra:repositories", `[{"name":"materialize","defaultBranch":"master","requiredCheck":["ci"]}]`), "ci-infra:repositories", "unknown field \"requiredCheck\""},
		{"repository without checks", set("ci-infra:repositories", `[{"name":"materialize","defaultBranch":"master"}]`), "ci-infra:repositories", "repositories[0] (materialize): at least one required status check"},
		{"repository listed twice", set("ci-infra:repositories", `[{"name":"m","defaultBranch":"main","requiredChecks":["ci"]},{"name":"M","defaultBranch":"main","requiredChecks":["ci"]}]`), "ci-infra:repositories", "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := badConfig(t, tt.edit)
			var cerr *ConfigError
			require.ErrorAs(t, err, &cerr)
			found := false
			for _, p := range cerr.Problems {
				if assert.Regexp(t, `^(ci-infra|aws|github):[\w.\[\]]+: `, p.Error(), "every problem starts with its key") &&
					len(p.Error()) > len(tt.wantKey) && p.Error()[:len(tt.wantKey)+1] == tt.wantKey+":" {
					assert.Contains(t, p.Error(), tt.wantText)
					found = true
				}
			}
			assert.True(t, found, "no problem names %s in:\n%v", tt.wantKey, err)
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	err := badConfig(t, func(c map[string]string, _ *[]string) {
		plantest.SetPath(t, c, "ci-infra:agentStacks", "test.maxSize", 0)
		c["ci-infra:bucketSuffix"] = "Bad"
		c["ci-infra:internalZoneName"] = ""
	})
	var cerr *ConfigError
	require.ErrorAs(t, err, &cerr)
	assert.GreaterOrEqual(t, len(cerr.Problems), 3)
}

func TestProdConfigIsValid(t *testing.T) {
	opts := plantest.StackOptions(t, "prod")
	_, err := plan.Run(Build, opts)
	require.NoError(t, err)
	raw, _ := json.Marshal(opts.Config)
	assert.NotContains(t, string(raw), "arn:aws", "no ARN is typed in config")
}

func TestOIDCProviderLeftToAnotherStack(t *testing.T) {
	opts := plantest.StackOptions(t, "prod")
	opts.Config["ci-infra:manageOidcProvider"] = "false"
	p, err := plan.Run(Build, opts)
	require.NoError(t, err)
	assert.Empty(t, p.Find("aws:iam/openIdConnectProvider:OpenIdConnectProvider", ""), "no provider is declared")
	deploy, err := p.Get("aws:iam/role:Role", "ci-access-deploy-role")
	require.NoError(t, err)
	assert.Contains(t, deploy.Input("assumeRolePolicy"), `"Federated":"arn:aws:iam::123456789012:oidc-provider/agent.buildkite.com"`,
		"the roles trust the account's existing provider")

	err = badConfig(t, func(c map[string]string, _ *[]string) {
		c["ci-infra:manageOidcProvider"] = "false"
		c["ci-infra:adopt"] = `{"ci-access": "arn:aws:iam::123456789012:oidc-provider/agent.buildkite.com"}`
	})
	assert.ErrorContains(t, err, "ci-infra:manageOidcProvider: is false, so another stack manages the OIDC provider, but adopt.ci-access takes it into this one")
}
