package stacks

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

// badConfig runs the program with the production config changed by edit and
// returns the error, after checking that nothing was registered. The
// stack holds its secrets (separateSecrets false), so that the rows about
// a missing or plaintext secret apply; the others hold in both layouts.
func badConfig(t *testing.T, edit func(cfg map[string]string, secrets *[]string)) error {
	t.Helper()
	opts := plantest.SecretsInStackOptions(t, "prod")
	edit(opts.Config, &opts.Secrets)
	p, err := plan.Run(Build, opts)
	require.Error(t, err)
	assert.Empty(t, p.Registered(), "bad config touches nothing")
	return err
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	set := func(key, value string) func(map[string]string, *[]string) {
		return func(c map[string]string, _ *[]string) { c[key] = value }
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
		{"min above max", func(c map[string]string, _ *[]string) { c["ci-infra:buildersMinSize"] = "6" }, "ci-infra:buildersMaxSize", "must be >= MinSize (6), got 5"},
		{"negative min", set("ci-infra:agentsMinSize", "-1"), "ci-infra:agentsMinSize", "must be >= 0"},
		{"a schedule that is not cron", set("ci-infra:scaleUpSchedule", "at nine"), "ci-infra:scaleUpSchedule", "want 5 fields"},
		{"an hour out of range", set("ci-infra:scaleDownSchedule", "0 25 * * MON-FRI"), "ci-infra:scaleDownSchedule", "out of range"},
		{"an unknown time zone", set("ci-infra:scheduleTimezone", "Mars/Olympus"), "ci-infra:scheduleTimezone", "not an IANA time zone"},
		{"more working-hours builders than burst builders", set("ci-infra:buildersBurstWorkingHoursMinSize", "5"), "ci-infra:buildersBurstWorkingHoursMinSize", "must be 0..4"},
		{"zero max", set("ci-infra:agentsMaxSize", "0"), "ci-infra:agentsMaxSize", "must be >= 1"},
		{"a test buffer above the size", set("ci-infra:agentsInstanceBuffer", "41"), "ci-infra:agentsInstanceBuffer", "must be 0..agentsMaxSize (40)"},
		{"a burst buffer above the burst", set("ci-infra:buildersBurstInstanceBuffer", "5"), "ci-infra:buildersBurstInstanceBuffer", "must be 0..4"},
		{"size not a number", set("ci-infra:agentsMaxSize", "ten"), "ci-infra:agentsMaxSize", "whole number"},
		{"unknown instance type", set("ci-infra:agentsInstanceTypes", `["c5.2xlarge","z9.mega"]`), "ci-infra:agentsInstanceTypes", `"z9.mega" has no price`},
		{"instance types not a list", set("ci-infra:buildersInstanceTypes", "c5.2xlarge"), "ci-infra:buildersInstanceTypes", "list of strings"},
		{"empty instance types", set("ci-infra:buildersInstanceTypes", "[]"), "ci-infra:buildersInstanceTypes", "1 to 25"},
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
		{"duplicate queues", set("ci-infra:buildersQueue", "default"), "ci-infra:buildersQueue", "also agentsQueue"},
		{"duplicate stack names", set("ci-infra:buildersStackName", "buildkite"), "ci-infra:buildersStackName", "also agentsStackName"},
		{"builders without baseline", func(c map[string]string, _ *[]string) { c["ci-infra:buildersMinSize"] = "0" }, "ci-infra:buildersMinSize", "warm build cache"},
		{"idle forever", set("ci-infra:agentsScaleInIdleSeconds", "0"), "ci-infra:agentsScaleInIdleSeconds", "at least 60"},
		{"public vpc", set("ci-infra:vpcCidr", "8.8.0.0/16"), "ci-infra:vpcCidr", "private"},
		{"one zone", set("ci-infra:availabilityZones", `["us-east-1a"]`), "ci-infra:availabilityZones", "at least two"},
		{"zone of another region", set("ci-infra:availabilityZones", `["us-east-1a","eu-west-1b"]`), "ci-infra:availabilityZones", "not a zone of us-east-1"},
		{"bad policy name", set("ci-infra:agentPolicyName", "buildkite agent"), "ci-infra:agentPolicyName", "policy name"},
		{"bad stack name", set("ci-infra:agentsStackName", "build_kite"), "ci-infra:agentsStackName", "stack name"},
		{"queue with shell metacharacters", set("ci-infra:agentsQueue", "default;rm"), "ci-infra:agentsQueue", "letters, digits"},
		{"spot share above 100", set("ci-infra:agentsOnDemandPercentage", "150"), "ci-infra:agentsOnDemandPercentage", "0 to 100"},
		{"negative spot share", set("ci-infra:buildersOnDemandPercentage", "-5"), "ci-infra:buildersOnDemandPercentage", "0 to 100"},
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
				if assert.Regexp(t, `^(ci-infra|aws|github):\w+: `, p.Error(), "every problem starts with its key") &&
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
		c["ci-infra:agentsMaxSize"] = "0"
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
