package cloudmodel

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The provider functions (invokes) the program calls, by token.
const getOIDCProvider = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"

// Invoke answers a provider function the way the real provider does, from
// the resources find returns: the offline plan's mocks pass a find that
// assumes the resource exists, the fake cloud one that looks it up.
func Invoke(tok string, args resource.PropertyMap, at Place, find func(typ string, match func(inputs resource.PropertyMap) bool) (resource.PropertyMap, bool, error)) (resource.PropertyMap, error) {
	switch tok {
	case getOIDCProvider:
		url := StringInput(args, "url")
		const typ = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
		state, ok, err := find(typ, func(inputs resource.PropertyMap) bool {
			return strings.TrimSuffix(StringInput(inputs, "url"), "/") == strings.TrimSuffix(url, "/")
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			// As the real provider says it (data source aws_iam_openid_connect_provider).
			return nil, fmt.Errorf("finding IAM OIDC Provider: no OpenID Connect provider with URL %s in account %s", url, at.Account)
		}
		out := state.Copy()
		out["id"] = out["arn"]
		return out, nil
	}
	return nil, fmt.Errorf("fakecloud: function %s is not faked; add it to internal/testkit/fakecloud/invoke.go", tok)
}

// Assume is the find of the offline plan: the resource exists, as the
// program's inputs would make it.
func Assume(at Place) func(typ string, match func(resource.PropertyMap) bool) (resource.PropertyMap, bool, error) {
	return func(typ string, _ func(resource.PropertyMap) bool) (resource.PropertyMap, bool, error) {
		inputs := resource.PropertyMap{}
		if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider" {
			inputs["url"] = resource.NewStringProperty("https://agent.buildkite.com")
		}
		_, computed := Attributes(typ, "", inputs, at, "")
		return State(inputs, computed), true, nil
	}
}
