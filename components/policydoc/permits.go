package policydoc

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Permits evaluates an identity policy (or a permissions boundary) the way
// IAM does for what this program's policies use: some Allow statement must
// match the action and the resource (Resource globs, or anything but
// NotResource) and all its conditions, and no matching Deny may. context
// holds the request's condition keys. Conditions: StringEquals, StringLike,
// ArnLike and ArnNotLike, each with one value or a list (any value
// matches); ArnNotLike matches when the key is absent too, as in IAM. It is how the
// tests, and a reader, check what a role can do.
func Permits(policy, action, resource string, context map[string]string) (bool, error) {
	var doc struct {
		Statement []struct {
			Effect                        string
			Action, Resource, NotResource any
			Condition                     map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return false, err
	}
	list := func(v any) []string {
		switch v := v.(type) {
		case string:
			return []string{v}
		case []any:
			var out []string
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	matchAny := func(patterns []string, s string) bool {
		for _, p := range patterns {
			if Glob(p).MatchString(s) {
				return true
			}
		}
		return false
	}
	allowed := false
	for _, st := range doc.Statement {
		matches := matchAny(list(st.Resource), resource)
		if st.NotResource != nil {
			matches = !matchAny(list(st.NotResource), resource)
		}
		if !matchAny(list(st.Action), action) || !matches {
			continue
		}
		ok := true
		for op, conds := range st.Condition {
			for k, v := range conds {
				value, present := context[k]
				switch op {
				case "StringEquals":
					ok = ok && present && slices.Contains(list(v), value)
				case "StringLike":
					ok = ok && present && matchAny(list(v), value)
				case "ArnLike":
					ok = ok && present && matchAny(list(v), value)
				case "ArnNotLike":
					ok = ok && !(present && matchAny(list(v), value))
				default:
					return false, fmt.Errorf("condition operator %s is not evaluated here", op)
				}
			}
		}
		if !ok {
			continue
		}
		if st.Effect == "Deny" {
			return false, nil
		}
		allowed = true
	}
	return allowed, nil
}
