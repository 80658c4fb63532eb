package policydoc

import (
	"fmt"
	"slices"
)

// conditionsHold evaluates a statement's Condition block against a
// request's condition keys, the one way both Permits and Admits do, for
// the operators this program's policies use: StringEquals (exact),
// StringLike, ArnLike (globs: * any run, ? one character), each true when
// the key is present and matches any of the values; ArnNotLike, true when
// the key is absent or matches none (as IAM reads it). Every operator and
// every key must hold.
func conditionsHold(conditions map[string]map[string]any, request map[string]string) (bool, error) {
	ok := true
	for op, conds := range conditions {
		for key, v := range conds {
			value, present := request[key]
			switch op {
			case "StringEquals":
				ok = ok && present && slices.Contains(list(v), value)
			case "StringLike", "ArnLike":
				ok = ok && present && matchAny(list(v), value)
			case "ArnNotLike":
				ok = ok && !(present && matchAny(list(v), value))
			default:
				return false, fmt.Errorf("condition operator %s is not evaluated here", op)
			}
		}
	}
	return ok, nil
}

// list reads a policy element that is one string or a list of them.
func list(v any) []string {
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

// matchAny tells whether s matches any of the IAM wildcard patterns.
func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if Glob(p).MatchString(s) {
			return true
		}
	}
	return false
}
