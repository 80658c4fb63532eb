// Package previewreport reads what `pulumi preview --json` prints (the
// CLI's PreviewDigest: steps, diagnostics, change summary) and turns it into
// the two reports the pipelines post: a pull request's preview (every
// change by resource and key, and whether a protected resource would be
// replaced or deleted) and the scheduled drift check (which resource and
// property the account changed, the code's value and the account's, and
// what to do next). The verdicts are decided here, in tested Go, never in
// a shell script.
package previewreport

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Digest is the part of `pulumi preview --json` the reports read
// (pkg/backend/display.PreviewDigest, Pulumi 3.274.1).
type Digest struct {
	Steps       []Step       `json:"steps"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// Step is one resource's planned operation. After a refresh, OldState is
// what the account holds and NewState what the program declares.
type Step struct {
	Op          string   `json:"op"`
	URN         string   `json:"urn"`
	DiffReasons []string `json:"diffReasons"`
	OldState    *State   `json:"oldState"`
	NewState    *State   `json:"newState"`
}

// State is a resource's state as the digest shows it.
type State struct {
	Protect bool           `json:"protect"`
	Inputs  map[string]any `json:"inputs"`
}

// Diagnostic is a message of the engine, a provider or the program.
type Diagnostic struct {
	URN      string `json:"urn"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

// Parse reads a digest.
func Parse(raw []byte) (Digest, error) {
	var d Digest
	if err := json.Unmarshal(raw, &d); err != nil {
		return Digest{}, fmt.Errorf("not the JSON of pulumi preview --json: %w", err)
	}
	return d, nil
}

// Change is one resource the preview would change: its last step (after a
// refresh, the update that follows the refresh of the same resource), and
// each changed value, dotted path by path.
type Change struct {
	Op, Type, Name string
	Protected      bool
	Keys           []string // the top-level keys the engine names (diffReasons)
	Values         []Value
}

// Value is one changed property: what the program declares and what the
// state (after a refresh, the account) holds.
type Value struct {
	Path          string
	Code, Current string
}

// Changes are the steps that change something, one per resource, in the
// digest's order. Values compares the keys the engine names
// (diffReasons) between the old and the new inputs, so it does not depend
// on a provider's detailed diff.
func (d Digest) Changes() []Change {
	last := map[string]Step{}
	var order []string
	for _, s := range d.Steps {
		if _, seen := last[s.URN]; !seen {
			order = append(order, s.URN)
		}
		last[s.URN] = s
	}
	var out []Change
	for _, urn := range order {
		s := last[urn]
		switch s.Op {
		case "same", "read", "refresh", "":
			continue
		}
		c := Change{Op: s.Op, Type: resourceType(urn), Name: resourceName(urn), Protected: s.OldState != nil && s.OldState.Protect,
			Keys: s.DiffReasons}
		var oldIn, newIn map[string]any
		if s.OldState != nil {
			oldIn = s.OldState.Inputs
		}
		if s.NewState != nil {
			newIn = s.NewState.Inputs
		}
		for _, key := range s.DiffReasons {
			values := changed(key, oldIn[key], newIn[key])
			if len(values) == 0 && (short(oldIn[key]) == "[secret]" || short(newIn[key]) == "[secret]") {
				// A secret the engine says changed, which neither side shows.
				values = []Value{{Path: key, Code: "[secret]", Current: "[secret]"}}
			}
			c.Values = append(c.Values, values...)
		}
		out = append(out, c)
	}
	return out
}

// destroys are the operations that remove a resource's present instance.
var destroys = regexp.MustCompile(`^(delete|replace|create-replacement|delete-replaced|discard)$`)

// ProtectedLosses are the protected resources the preview would replace or
// delete, and the engine's refusals to do so ("protect" in an error).
func (d Digest) ProtectedLosses() []string {
	var out []string
	for _, c := range d.Changes() {
		if c.Protected && destroys.MatchString(c.Op) {
			out = append(out, fmt.Sprintf("%s `%s`", c.Op, c.Name))
		}
	}
	for _, diag := range d.Diagnostics {
		if diag.Severity == "error" && strings.Contains(diag.Message, "protect") {
			out = append(out, oneLine(diag.Message))
		}
	}
	return out
}

// Problems are the error and warning diagnostics.
func (d Digest) Problems() []Diagnostic {
	var out []Diagnostic
	for _, diag := range d.Diagnostics {
		if diag.Severity == "error" || diag.Severity == "warning" {
			out = append(out, diag)
		}
	}
	return out
}

// changed lists the leaves that differ between two values of a property,
// by path: objects by key, lists by index, a string that holds a JSON
// document (a policy) as that document, and text of several lines by its
// first differing line.
func changed(path string, old, new any) []Value {
	if o, ok := jsonDocument(old); ok {
		if n, ok := jsonDocument(new); ok {
			return changed(path, o, n)
		}
	}
	// Something added or removed whole is shown leaf by leaf, like a change.
	if _, ok := new.(map[string]any); ok && old == nil {
		old = map[string]any{}
	}
	if _, ok := old.(map[string]any); ok && new == nil {
		new = map[string]any{}
	}
	switch o := old.(type) {
	case map[string]any:
		if n, ok := new.(map[string]any); ok {
			keys := map[string]bool{}
			for k := range o {
				keys[k] = true
			}
			for k := range n {
				keys[k] = true
			}
			var sorted []string
			for k := range keys {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			var out []Value
			for _, k := range sorted {
				out = append(out, changed(path+"."+k, o[k], n[k])...)
			}
			return out
		}
	case []any:
		if n, ok := new.([]any); ok {
			var out []Value
			for i := range max(len(o), len(n)) {
				out = append(out, changed(fmt.Sprintf("%s[%d]", path, i), element(o, i), element(n, i))...)
			}
			return out
		}
	case string:
		if n, ok := new.(string); ok && o != n && (strings.Contains(o, "\n") || strings.Contains(n, "\n")) {
			a, b := strings.Split(o, "\n"), strings.Split(n, "\n")
			for i := range max(len(a), len(b)) {
				if x, y := element(a, i), element(b, i); x != y {
					return []Value{{Path: fmt.Sprintf("%s line %d", path, i+1), Code: short(y), Current: short(x)}}
				}
			}
		}
	}
	if short(old) == short(new) {
		return nil
	}
	return []Value{{Path: path, Code: short(new), Current: short(old)}}
}

// element is xs[i], or nil past its end.
func element[T any](xs []T, i int) any {
	if i < len(xs) {
		return xs[i]
	}
	return nil
}

// jsonDocument reads a string that holds a JSON object or list.
func jsonDocument(v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return nil, false
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var doc any
	if json.Unmarshal([]byte(s), &doc) != nil {
		return nil, false
	}
	return doc, true
}

// secretSig is how the engine marks a secret value in JSON.
const secretSig = "1b47061264138c4ac30d75fd1eb44270"

// short renders a value on one line, at most 120 characters; a secret as
// [secret].
func short(v any) string {
	if m, ok := v.(map[string]any); ok {
		if sig, _ := m["4dabf18193072939515e22adb298388d"].(string); sig == secretSig {
			return "[secret]"
		}
	}
	if s, ok := v.(string); ok && s == "[secret]" {
		return s
	}
	raw, _ := json.Marshal(v)
	s := string(raw)
	if v == nil {
		s = "(none)"
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func resourceName(urn string) string {
	parts := strings.Split(urn, "::")
	return parts[len(parts)-1]
}

func resourceType(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 2 {
		return ""
	}
	types := strings.Split(parts[len(parts)-2], "$")
	return types[len(types)-1]
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
