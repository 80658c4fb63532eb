package fakecloud

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
)

// A claim is a name that only one resource may hold: within an AWS account
// (an IAM role name), within a GitHub organisation (a team name), or in the
// whole world (an S3 bucket name). The real services refuse a second
// resource with a held name; so does the fake cloud.
type claim struct {
	kind  string // what the name names, as the refusal says it
	name  string
	world bool // held across all accounts: S3's namespace, and GitHub (outside AWS)
}

// claims lists the names a resource holds once it exists.
func claims(typ string, inputs resource.PropertyMap, at Place) []claim {
	in := func(key string) string { return cloudmodel.StringInput(inputs, key) }
	switch typ {
	case "aws:s3/bucketV2:BucketV2":
		return []claim{{kind: "S3 bucket", name: in("bucket"), world: true}}
	case "aws:iam/policy:Policy":
		return []claim{{kind: "IAM policy", name: in("name")}}
	case "aws:iam/role:Role":
		return []claim{{kind: "IAM role", name: in("name")}}
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		// One provider per issuer URL per account.
		return []claim{{kind: "IAM OIDC provider", name: strings.TrimPrefix(in("url"), "https://")}}
	case "aws:ssm/parameter:Parameter":
		return []claim{{kind: "SSM parameter", name: at.Region + ":" + in("name")}}
	case "aws:cloudformation/stack:Stack":
		name := in("name")
		return []claim{
			{kind: "CloudFormation stack", name: at.Region + ":" + name},
			// The Elastic CI Stack names its instance role after the stack
			// (`RoleName: !Sub ${AWS::StackName}-Role` in aws-stack.yml,
			// v6.71.1): two stacks of one name in any regions of one account
			// collide on it.
			{kind: "IAM role", name: name + "-Role"},
		}
	case "github:index/team:Team":
		return []claim{{kind: "GitHub team", name: at.Org + "/" + strings.ToLower(in("name")), world: true}}
	case "github:index/branchProtection:BranchProtection":
		return []claim{{kind: "branch protection rule", name: at.Org + "/" + in("repositoryId") + ":" + in("pattern"), world: true}}
	}
	return nil
}

// refusal is the error the real service gives when c is held already, by a
// resource of holderAccount.
func (c claim) refusal(account, holderAccount string) error {
	switch {
	case c.kind == "S3 bucket" && holderAccount == account:
		return fmt.Errorf("BucketAlreadyOwnedByYou: the bucket %s already exists in this account", c.name)
	case c.kind == "S3 bucket":
		return fmt.Errorf("BucketAlreadyExists: the bucket name %s is taken by another account (bucket names are global)", c.name)
	default:
		return fmt.Errorf("EntityAlreadyExists: %s %s already exists", c.kind, c.name)
	}
}

// HeldNames lists the names a resource would hold, as "kind name", for
// tests that prove two stacks can live side by side.
func HeldNames(typ string, inputs resource.PropertyMap, at Place) []string {
	var out []string
	for _, c := range claims(typ, inputs, at) {
		out = append(out, c.kind+" "+c.name)
	}
	return out
}
