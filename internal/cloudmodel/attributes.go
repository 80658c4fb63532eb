// Package cloudmodel owns what AWS and GitHub give a resource that the
// program does not choose: its ID and the provider-computed outputs (IDs,
// ARNs, a bucket's ID equal to its name), in the forms the real providers
// use, and the answers of the provider functions the program calls. It is
// written once, for the two places that stand in for the cloud: the
// offline plan's mocks (internal/plan) and the fake cloud the engine tests
// run against (internal/testkit/fakecloud).
package cloudmodel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// DefaultAccount is the AWS account ID used when none is given. It is the
// documentation account, so nothing derived from it can be mistaken for a
// real one.
const DefaultAccount = "123456789012"

// Place is where a resource lives: the AWS account and region of the
// credentials and provider config, or the GitHub organisation.
type Place struct {
	Account string
	Region  string
	Org     string
}

// Attributes returns the ID and the provider-computed outputs of a custom
// resource of type typ with the given URN and inputs. Generated IDs derive
// from the URN, so they are stable across runs, equal for the plan and the
// engine, and different for two stacks. A non-empty id (an imported or
// seeded resource) is kept, and the outputs that embed it follow it.
func Attributes(typ, urn string, inputs resource.PropertyMap, at Place, id string) (string, map[string]any) {
	in := func(key string) string { return StringInput(inputs, key) }
	h := StableHash(typ, urn)
	pick := func(derived string) string {
		if id != "" {
			return id
		}
		return derived
	}
	arn := func(service, region, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, at.Account, resource)
	}
	switch typ {
	case "aws:s3/bucketV2:BucketV2":
		name := pick(in("bucket"))
		return name, map[string]any{
			"arn":                      "arn:aws:s3:::" + name,
			"bucketRegionalDomainName": name + ".s3." + at.Region + ".amazonaws.com",
			"region":                   at.Region,
		}
	case "aws:iam/policy:Policy":
		path := in("path")
		if path == "" {
			path = "/" // IAM's default path
		}
		a := pick(arn("iam", "", "policy"+path+in("name")))
		return a, map[string]any{"arn": a, "policyId": "ANPA" + strings.ToUpper(h[:17])}
	case "aws:iam/role:Role":
		role := pick(in("name"))
		return role, map[string]any{"arn": arn("iam", "", "role/"+role), "uniqueId": "AROA" + strings.ToUpper(h[:17])}
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		a := pick(arn("iam", "", "oidc-provider/"+strings.TrimPrefix(in("url"), "https://")))
		return a, map[string]any{"arn": a}
	case "aws:ssm/parameter:Parameter":
		param := pick(in("name"))
		return param, map[string]any{"arn": arn("ssm", at.Region, "parameter/"+strings.TrimPrefix(param, "/"))}
	case "aws:route53/zone:Zone":
		zone := pick("Z" + strings.ToUpper(h[:20]))
		return zone, map[string]any{"zoneId": zone, "arn": "arn:aws:route53:::hostedzone/" + zone, "nameServers": []any{}}
	case "aws:cloudformation/stack:Stack":
		// Two of the Elastic CI Stack's outputs, named as the template
		// names them (aws-stack.yml, v6.71.1, Outputs).
		stack := in("name")
		return pick(arn("cloudformation", at.Region, "stack/"+stack+"/"+h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:32])),
			map[string]any{"outputs": map[string]any{
				"AutoScalingGroupName": stack + "-AgentAutoScaleGroup-" + strings.ToUpper(h[:12]),
				"InstanceRoleName":     stack + "-Role",
			}}
	case "aws:ec2/vpc:Vpc":
		vpc := pick("vpc-" + h[:17])
		return vpc, map[string]any{"arn": arn("ec2", at.Region, "vpc/"+vpc)}
	case "aws:ec2/subnet:Subnet":
		subnet := pick("subnet-" + h[:17])
		return subnet, map[string]any{"arn": arn("ec2", at.Region, "subnet/"+subnet)}
	case "aws:ec2/internetGateway:InternetGateway":
		return pick("igw-" + h[:17]), nil
	case "aws:ec2/routeTable:RouteTable":
		return pick("rtb-" + h[:17]), nil
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		return pick("vpce-" + h[:17]), nil
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		return pick(in("key")), map[string]any{"versionId": h[:32]}
	case "aws:acm/certificate:Certificate":
		a := pick(arn("acm", at.Region, "certificate/"+h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:32]))
		domain := in("domainName")
		return a, map[string]any{"arn": a, "status": "PENDING_VALIDATION", "domainValidationOptions": []any{map[string]any{
			"domainName":          domain,
			"resourceRecordName":  "_" + h[32:48] + "." + domain + ".",
			"resourceRecordType":  "CNAME",
			"resourceRecordValue": "_" + h[48:64] + ".acm-validations.aws.",
		}}}
	case "aws:acm/certificateValidation:CertificateValidation":
		return pick(in("certificateArn")), nil
	case "aws:cloudfront/distribution:Distribution":
		id := pick("E" + strings.ToUpper(h[:13]))
		return id, map[string]any{"arn": fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", at.Account, id),
			"domainName": "d" + h[13:26] + ".cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2", "status": "Deployed"}
	case "aws:cloudfront/originAccessControl:OriginAccessControl", "aws:cloudfront/cachePolicy:CachePolicy":
		return pick("E" + strings.ToUpper(h[:13])), nil
	case "aws:route53/record:Record":
		return pick(in("zoneId") + "_" + in("name") + "_" + in("type")), map[string]any{"fqdn": strings.TrimSuffix(in("name"), ".")}
	case "aws:cloudwatch/logGroup:LogGroup":
		group := pick(in("name"))
		return group, map[string]any{"arn": arn("logs", at.Region, "log-group:"+group)}
	case "aws:cloudwatch/logDeliverySource:LogDeliverySource":
		return pick(in("name")), map[string]any{"arn": arn("logs", at.Region, "delivery-source:"+in("name"))}
	case "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination":
		return pick(in("name")), map[string]any{"arn": arn("logs", at.Region, "delivery-destination:"+in("name"))}
	case "github:index/branchProtection:BranchProtection":
		// A GraphQL node ID; <repository>:<pattern> is only how it is imported.
		return pick("BPR_" + h[:16]), nil
	case "github:index/team:Team":
		return pick(fmt.Sprint(stableNumber(h))), map[string]any{"slug": in("name"), "nodeId": "T_" + h[:16]}
	}
	return pick(resource.URN(urn).Name() + "-" + h[:8]), nil
}

// State merges inputs and computed outputs into the state a provider
// returns: computed values fill what the inputs leave unset, and an ID or
// ARN is always the provider's.
func State(inputs resource.PropertyMap, computed map[string]any) resource.PropertyMap {
	state := inputs.Copy()
	for k, v := range computed {
		if _, set := state[resource.PropertyKey(k)]; !set || k == "arn" || k == "id" {
			state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	return state
}

// stringInput returns a top-level string input, looking through secrets.
func StringInput(inputs resource.PropertyMap, key string) string {
	v, ok := inputs[resource.PropertyKey(key)]
	for ok && v.IsSecret() {
		v = v.SecretValue().Element
	}
	if ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func StableHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

func stableNumber(h string) uint32 {
	var n uint32
	for _, c := range h[:7] {
		n = n*16 + uint32(strings.IndexRune("0123456789abcdef", c))
	}
	return n
}
