package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"mtrlz.dev/ci-infra/components/ident"
)

// AdoptIDs maps a component to the ID of the existing resource it adopts.
// An ID may be written as a number: `pulumi config set --path
// adopt.trusted-team 4242` stores the team's numeric ID as one.
type AdoptIDs map[string]string

// UnmarshalJSON accepts string and whole-number IDs.
func (a *AdoptIDs) UnmarshalJSON(raw []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	*a = AdoptIDs{}
	for component, v := range m {
		var id string
		if err := json.Unmarshal(v, &id); err != nil {
			var n json.Number
			if json.Unmarshal(v, &n) != nil {
				return fmt.Errorf("%s: the ID must be a string or a number, got %s", component, v)
			}
			id = n.String()
		}
		(*a)[component] = id
	}
	return nil
}

var (
	teamID      = regexp.MustCompile(`^[0-9]{1,12}$`)
	providerARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/agent\.buildkite\.com$`)
	policyARN   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:policy/(.+/)?([^/]+)$`)
)

// adoptable says, for each component that can take over an existing
// resource, what its ID must look like.
func (c *Config) adoptable() map[string]func(id string) error {
	same := func(want string) func(string) error {
		return func(id string) error {
			if id != want {
				return fmt.Errorf("is %q, but the configured name is %q: adopt by the same name (change the config, not the ID)", id, want)
			}
			return nil
		}
	}
	pattern := func(matches func(string) bool, form string) func(string) error {
		return func(id string) error {
			if !matches(id) {
				return fmt.Errorf("%q is not %s", id, form)
			}
			return nil
		}
	}
	return map[string]func(string) error{
		nameConfig:      same(c.ConfigBucketName()),
		nameSecrets:     same(c.SecretsBucketName()),
		nameSecretsLogs: same(c.SecretsLogBucketName()),
		nameDownloads:   same(c.DownloadsBucketName),
		nameZone:        pattern(ident.IsZoneID, ident.ZoneIDRule),
		nameAgents:      same(c.AgentStacks.Test.StackName),
		nameBuilders:    same(c.AgentStacks.Builders.StackName),
		nameDeployers:   same(c.AgentStacks.Deploy.StackName),
		nameTeam: func(id string) error {
			if teamID.MatchString(id) || (ident.IsTeamSlug(id) && id == c.TrustedTeamName) {
				return nil
			}
			return fmt.Errorf("%q is neither a numeric team ID nor the slug %q", id, c.TrustedTeamName)
		},
		nameCIAccess: pattern(providerARN.MatchString, "the ARN of an IAM OIDC provider for agent.buildkite.com"),
		nameAgentPolicy: func(id string) error {
			m := policyARN.FindStringSubmatch(id)
			switch {
			case m == nil:
				return fmt.Errorf("%q is not the ARN of an IAM policy such as arn:aws:iam::<account>:policy/%s", id, c.AgentPolicyName)
			case m[2] != c.AgentPolicyName:
				return fmt.Errorf("is the policy %q, but agentPolicyName is %q: adopt by the same name (change the config, not the ID)", m[2], c.AgentPolicyName)
			}
			return nil
		},
	}
}

func (c *Config) validateAdopt(bad func(key, format string, args ...any)) {
	known := c.adoptable()
	names := slices.Sorted(maps.Keys(known))
	for _, component := range slices.Sorted(maps.Keys(c.Adopt)) {
		check, ok := known[component]
		if !ok {
			bad("adopt", "%q is not a component that can adopt a resource; use one of %s", component, strings.Join(names, ", "))
			continue
		}
		if err := check(c.Adopt[component]); err != nil {
			bad("adopt", "%s: %v", component, err)
		}
	}
	if c.Adopt[nameCIAccess] != "" && !c.ManageOIDCProvider {
		bad("manageOidcProvider", "is false, so another stack manages the OIDC provider, but adopt.%s takes it into this one: drop one of the two", nameCIAccess)
	}
}
