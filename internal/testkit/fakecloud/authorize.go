package fakecloud

import (
	"encoding/json"
	"fmt"
	"strings"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
)

// EnvRole names the environment variable that makes the run's credentials
// those of one IAM role of the fake account, by name: every Read (a
// refresh, an import's read) is then authorized against that role's
// policies as they exist in the fake cloud, the ones the program deployed.
// Unset: the credentials may do anything, as an operator's.
const EnvRole = "FAKECLOUD_ROLE"

// Authorizer decides whether the run's credentials may read one resource:
// typ is its type, arn its ARN (ResourceARN) and policy the role's
// identity policies as one document (RolePolicies). A refusal is an error
// that reads as AWS's AccessDenied.
type Authorizer func(typ, arn, policy string) error

// WithAuthorizer makes p check each Read with a; the test plugin supplies
// it, since which actions read a type is the program's fact
// (components/ciaccess), not the fake cloud's.
func (p *Provider) WithAuthorizer(a Authorizer) *Provider {
	p.authorize = a
	return p
}

// ResourceARN is the ARN a read of r acts on, as IAM sees it: the
// resource's own ARN output; for a bucket's settings, the bucket's ARN;
// for an object, bucket/key. "*" for a resource IAM cannot name.
func ResourceARN(r Record) string {
	in, err := r.InputMap()
	if err != nil {
		return "*"
	}
	switch {
	case r.Type == "aws:s3/bucketObjectv2:BucketObjectv2":
		return "arn:aws:s3:::" + cloudmodel.StringInput(in, "bucket") + "/" + cloudmodel.StringInput(in, "key")
	case strings.HasPrefix(r.Type, "aws:s3/bucket") && r.Type != "aws:s3/bucketV2:BucketV2":
		return "arn:aws:s3:::" + cloudmodel.StringInput(in, "bucket")
	case r.Type == "aws:cloudformation/stack:Stack":
		return r.ID // the stack's ID is its ARN
	}
	out, err := r.OutputMap()
	if err != nil {
		return "*"
	}
	if arn := cloudmodel.StringInput(out, "arn"); arn != "" {
		return arn
	}
	return "*"
}

// RolePolicies are the identity policies of the role named role in the
// account of at, as one document: its inline policies' statements, and
// those of the customer managed policies attached to it. An AWS managed
// policy is not modelled: its attachment is an error, not a guess.
func (s Store) RolePolicies(role string, at Place) (string, error) {
	all, err := s.Resources()
	if err != nil {
		return "", err
	}
	managed := map[string]string{} // ARN -> document
	for _, r := range all {
		if r.Type != "aws:iam/policy:Policy" || r.Place.Account != at.Account {
			continue
		}
		in, err := r.InputMap()
		if err != nil {
			return "", err
		}
		managed[ResourceARN(r)] = cloudmodel.StringInput(in, "policy")
	}
	var statements []any
	addDoc := func(doc string) error {
		var d struct{ Statement []any }
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return fmt.Errorf("a policy of role %s: %w", role, err)
		}
		statements = append(statements, d.Statement...)
		return nil
	}
	for _, r := range all {
		if r.Place.Account != at.Account {
			continue
		}
		in, err := r.InputMap()
		if err != nil {
			return "", err
		}
		if cloudmodel.StringInput(in, "role") != role {
			continue
		}
		switch r.Type {
		case "aws:iam/rolePolicy:RolePolicy":
			err = addDoc(cloudmodel.StringInput(in, "policy"))
		case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
			arn := cloudmodel.StringInput(in, "policyArn")
			doc, ok := managed[arn]
			if !ok {
				return "", fmt.Errorf("role %s has the managed policy %s attached, which the fake cloud does not model", role, arn)
			}
			err = addDoc(doc)
		}
		if err != nil {
			return "", err
		}
	}
	raw, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(raw), err
}

// authorizeRead checks a read of r when the run's credentials are a role's
// (EnvRole) of the AWS provider.
func (p *Provider) authorizeRead(r Record) error {
	if p.role == "" || p.pkg != "aws" {
		return nil
	}
	if p.authorize == nil {
		return fmt.Errorf("fakecloud: %s is set, but the plugin has no authorizer", EnvRole)
	}
	policy, err := p.store.RolePolicies(p.role, p.place)
	if err != nil {
		return err
	}
	return p.authorize(r.Type, ResourceARN(r), policy)
}
