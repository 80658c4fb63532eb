package ciaccess

import (
	"strings"

	"mtrlz.dev/ci-infra/components/policydoc"
)

// Admits evaluates a role's trust policy (policydoc.Admits) for a token of
// Buildkite's issuer. claims are keyed as the token names them ("sub",
// "aud"), or, for session tags, by their full key
// ("aws:RequestTag/agent_tag:queue").
func Admits(policy string, claims map[string]string) (bool, error) {
	request := map[string]string{}
	for k, v := range claims {
		if !strings.HasPrefix(k, "aws:") {
			k = claimPrefix + ":" + k
		}
		request[k] = v
	}
	return policydoc.Admits(policy, request)
}
