package policydoc

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// Admits evaluates a role's trust policy for a web identity token the way
// STS does for the conditions these policies use: some Allow statement for
// sts:AssumeRoleWithWebIdentity whose conditions hold (conditionsHold, the
// evaluator Permits uses too). request holds the
// token's claims and session tags by the keys IAM gives them in conditions
// ("agent.buildkite.com:sub", "aws:RequestTag/agent_tag:queue"); a key the
// request lacks fails its condition. It is how the tests, and a reader,
// check who can assume a role.
func Admits(policy string, request map[string]string) (bool, error) {
	var doc struct {
		Statement []struct {
			Effect    string
			Action    any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return false, err
	}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || !slices.Contains(list(st.Action), "sts:AssumeRoleWithWebIdentity") {
			continue
		}
		ok, err := conditionsHold(st.Condition, request)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// Glob compiles an IAM wildcard pattern.
func Glob(pattern string) *regexp.Regexp {
	var b strings.Builder
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return regexp.MustCompile("^" + b.String() + "$")
}
