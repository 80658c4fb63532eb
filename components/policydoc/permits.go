package policydoc

import "encoding/json"

// Permits evaluates an identity policy (or a permissions boundary) the way
// IAM does for what this program's policies use: some Allow statement must
// match the action and the resource (Resource globs, or anything but
// NotResource) and all its conditions, and no matching Deny may. context
// holds the request's condition keys, evaluated as conditionsHold says. It
// is how the tests, and a reader, check what a role can do.
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
	allowed := false
	for _, st := range doc.Statement {
		matches := matchAny(list(st.Resource), resource)
		if st.NotResource != nil {
			matches = !matchAny(list(st.NotResource), resource)
		}
		if !matchAny(list(st.Action), action) || !matches {
			continue
		}
		ok, err := conditionsHold(st.Condition, context)
		if err != nil {
			return false, err
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
