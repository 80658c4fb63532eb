package stacks

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/bucket"
	"mtrlz.dev/ci-infra/internal/cloudmodel"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
	"mtrlz.dev/ci-infra/policies"
)

func drPlan(t *testing.T) *plan.Plan {
	p, err := plan.Run(Build, plantest.StackOptions(t, "dr"))
	require.NoError(t, err, "the DR example plans cleanly")
	return p
}

func TestDRPlanPassesThePolicyPack(t *testing.T) {
	pack, err := policies.Load(context.Background())
	require.NoError(t, err)
	vs, err := pack.Evaluate(context.Background(), policies.Inputs(drPlan(t)))
	require.NoError(t, err)
	assert.Empty(t, policies.MandatoryOf(vs))
}

func TestDRPlanHasNothingOfProductionsPlace(t *testing.T) {
	prod := plantest.StackOptions(t, "prod")
	// CloudFront's certificate and log delivery live in us-east-1 whatever
	// the stack's region: the download site's resources are left out of
	// the region check, and only of it.
	dr := drPlan(t)
	document := dr.Document()
	var elsewhere []plan.DocResource
	for _, r := range document.Resources {
		if !strings.Contains(r.URN, bucket.SiteTypeToken) {
			elsewhere = append(elsewhere, r)
		}
	}
	document.Resources = elsewhere
	raw, err := json.Marshal(document)
	require.NoError(t, err)
	doc := string(raw)

	var prodCfg Config
	prodCfg.BucketSuffix = prod.Config["ci-infra:bucketSuffix"]
	for _, tied := range []string{
		prod.Config["aws:region"],
		prodCfg.ConfigBucketName(), prodCfg.SecretsBucketName(), prodCfg.SecretsLogBucketName(),
		prod.Config["ci-infra:downloadsBucketName"],
	} {
		require.NotEmpty(t, tied)
		// Whole names only: buildkite-config-mtrlz-dr is not buildkite-config-mtrlz.
		whole := regexp.MustCompile(`(^|[^a-z0-9.-])` + regexp.QuoteMeta(tied) + `([^a-z0-9.-]|$)`)
		assert.False(t, whole.MatchString(doc), "the DR plan names production's %q", tied)
	}
}

// A rebuild may land in production's own account (a region is lost, not
// the account). Placed in one account, the two stacks hold no name in
// common that the account (or S3) holds once, once the rebuild leaves the
// OIDC provider to production as scripts/dr-rebuild does there.
func TestDRHoldsNoNameProdHolds(t *testing.T) {
	held := func(p *plan.Plan) map[string]bool {
		names := map[string]bool{}
		for _, r := range p.Registered() {
			at := cloudmodel.Place{Account: cloudmodel.DefaultAccount, Region: "any"}
			for _, n := range fakecloud.HeldNames(r.Type, r.Inputs, at) {
				names[n] = true
			}
		}
		return names
	}
	opts := plantest.StackOptions(t, "dr")
	opts.Config["ci-infra:manageOidcProvider"] = "false"
	dr, err := plan.Run(Build, opts)
	require.NoError(t, err)
	prodNames, drNames := held(prodPlan(t)), held(dr)
	require.Contains(t, prodNames, "IAM role buildkite-Role", "the template's role is among the names")
	for n := range drNames {
		assert.False(t, prodNames[n], "dr would collide with prod on %s", n)
	}
}

func TestDRDiffersFromProdOnlyWhereIntended(t *testing.T) {
	prod, dr := plantest.StackOptions(t, "prod"), plantest.StackOptions(t, "dr")
	var changed []string
	for _, key := range slices.Sorted(maps.Keys(prod.Config)) {
		if dr.Config[key] != prod.Config[key] && !slices.Contains(prod.Placeholders, key) {
			changed = append(changed, key)
		}
	}
	for key := range dr.Config {
		if _, ok := prod.Config[key]; !ok {
			changed = append(changed, key)
		}
	}
	// downloadsDomain: an alias is global, and production holds it.
	assert.ElementsMatch(t, []string{"aws:region", "ci-infra:bucketSuffix", "ci-infra:downloadsBucketName", "ci-infra:downloadsDomain", "ci-infra:manageGitHub",
		"ci-infra:agentStacks", "ci-infra:agentPolicyName"}, changed)

	// The AWS resources of a plan, with the region taken out of the logical
	// names of the per-zone subnets.
	resources := func(p *plan.Plan, region string) []string {
		var out []string
		for _, r := range p.Registered() {
			// The certificate serves production's alias only.
			if !strings.Contains(r.Type, "github:") && r.Type != "aws:acm/certificate:Certificate" {
				name := r.Name
				if strings.HasPrefix(name, "network-public-") { // per-zone names carry the region
					name = strings.ReplaceAll(name, region, "REGION")
				}
				out = append(out, r.Type+" "+name)
			}
		}
		return out
	}
	assert.ElementsMatch(t, resources(prodPlan(t), prod.Config["aws:region"]), resources(drPlan(t), dr.Config["aws:region"]),
		"the same AWS resources, only placed elsewhere")
	for _, r := range drPlan(t).Registered() {
		assert.False(t, strings.HasPrefix(r.Type, "github:"), "GitHub stays with the stack that manages it: %s", r.Name)
	}
}
