package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Document is the JSON form of a plan, what reviewers and tools read.
type Document struct {
	Project      string         `json:"project"`
	Stack        string         `json:"stack"`
	Placeholders []string       `json:"placeholders,omitempty"`
	Resources    []DocResource  `json:"resources"`
	Outputs      map[string]any `json:"outputs"`
}

// DocResource is one resource of a Document. Secret inputs read "[secret]".
type DocResource struct {
	URN     string         `json:"urn"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Parent  string         `json:"parent,omitempty"`
	Protect bool           `json:"protect"`
	Import  string         `json:"import,omitempty"`
	Inputs  map[string]any `json:"inputs"`
	// PropertyDependencies names, per input, the resources whose outputs
	// it takes (a bucket policy's "bucket"), as the engine and a policy
	// pack see them.
	PropertyDependencies map[string][]string `json:"propertyDependencies,omitempty"`
}

// Document returns the JSON form of the plan, with every secret redacted.
func (p *Plan) Document() Document {
	doc := Document{
		Project:      p.Project,
		Stack:        p.Stack,
		Placeholders: p.Placeholders,
		Resources:    []DocResource{},
		Outputs:      map[string]any{},
	}
	for _, r := range p.Resources {
		if r.Type == resource.RootStackType.String() {
			continue
		}
		inputs, _ := Plain(resource.NewObjectProperty(r.Inputs), true).(map[string]any)
		doc.Resources = append(doc.Resources, DocResource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent,
			Protect: r.Protect, Import: r.ImportID, Inputs: inputs,
			PropertyDependencies: wiring(r.PropertyDependencies),
		})
	}
	for name, o := range p.Outputs {
		switch {
		case o.Secret:
			doc.Outputs[name] = "[secret]"
		case !o.Known:
			doc.Outputs[name] = "[unknown]"
		default:
			doc.Outputs[name] = jsonValue(o.Value)
		}
	}
	return doc
}

// wiring keeps the inputs that take another resource's outputs.
func wiring(deps map[string][]string) map[string][]string {
	kept := map[string][]string{}
	for k, urns := range deps {
		if len(urns) > 0 {
			kept[k] = urns
		}
	}
	return kept
}

// ReadDocument parses the JSON form of a plan (what `cmd/plan -json`
// writes) back into a Plan, for tests and tools that read a committed plan
// instead of running the program. What the document redacted stays
// redacted: a "[secret]" input comes back as a secret holding "[secret]",
// an "[unknown]" one as a computed value.
func ReadDocument(raw []byte) (*Plan, error) {
	var doc Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("plan document: %w", err)
	}
	p := &Plan{Project: doc.Project, Stack: doc.Stack, Placeholders: doc.Placeholders, Outputs: map[string]Output{}}
	for _, r := range doc.Resources {
		inputs := resource.NewPropertyMapFromMap(r.Inputs)
		for k, v := range inputs {
			inputs[k] = unredact(v)
		}
		p.Resources = append(p.Resources, Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Protect: r.Protect,
			Custom: !strings.HasPrefix(r.Type, doc.Project+":"), ImportID: r.Import,
			Inputs: inputs, PropertyDependencies: r.PropertyDependencies,
		})
	}
	for name, v := range doc.Outputs {
		p.Outputs[name] = Output{Value: v, Secret: v == "[secret]", Known: v != "[unknown]"}
	}
	return p, nil
}

// unredact turns the placeholders Document writes back into the kind of
// value they stand for.
func unredact(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsString() && v.StringValue() == "[secret]":
		return resource.MakeSecret(v)
	case v.IsString() && v.StringValue() == "[unknown]":
		return resource.MakeComputed(resource.NewStringProperty(""))
	case v.IsArray():
		for i, e := range v.ArrayValue() {
			v.ArrayValue()[i] = unredact(e)
		}
	case v.IsObject():
		for k, e := range v.ObjectValue() {
			v.ObjectValue()[k] = unredact(e)
		}
	}
	return v
}

// jsonValue turns a Go value ([]string, map[string]string...) into the
// plain JSON types the renderers walk.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// WriteText writes the plan as a tree: each resource under its parent, with
// its type, logical name, protection, import ID and inputs, then the outputs.
func (p *Plan) WriteText(w io.Writer) error {
	doc := p.Document()
	tw := &textWriter{w: w}
	tw.printf("Plan of stack %q (project %s): %d resources\n", doc.Stack, doc.Project, len(doc.Resources))
	if len(doc.Placeholders) > 0 {
		tw.printf("Secret config not readable offline, planned with placeholders: %s\n", strings.Join(doc.Placeholders, ", "))
	}
	children := map[string][]DocResource{}
	urns := map[string]bool{}
	for _, r := range doc.Resources {
		urns[r.URN] = true
	}
	for _, r := range doc.Resources {
		parent := r.Parent
		if !urns[parent] {
			parent = "" // top level: parented to the stack
		}
		children[parent] = append(children[parent], r)
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, r := range children[parent] {
			indent := strings.Repeat("    ", depth)
			flags := ""
			if r.Protect {
				flags += "  [protected]"
			}
			if r.Import != "" {
				flags += fmt.Sprintf("  [import %s]", r.Import)
			}
			tw.printf("\n%s%s  %s%s\n", indent, r.Name, r.Type, flags)
			for _, line := range flatten("", r.Inputs) {
				tw.printf("%s    %s\n", indent, line)
			}
			walk(r.URN, depth+1)
		}
	}
	walk("", 0)
	tw.printf("\nOutputs:\n")
	for _, line := range flatten("", doc.Outputs) {
		tw.printf("    %s\n", line)
	}
	return tw.err
}

type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// flatten renders nested values as sorted "path: value" lines. Multi-line
// strings (scripts, policies) are shown whole, indented under their key.
func flatten(prefix string, v any) []string {
	var lines []string
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			lines = append(lines, flatten(join(prefix, k), v[k])...)
		}
		if len(v) == 0 && prefix != "" {
			lines = append(lines, prefix+": {}")
		}
	case []any:
		if scalars(v) {
			parts := make([]string, len(v))
			for i, e := range v {
				parts[i] = scalar(e)
			}
			lines = append(lines, fmt.Sprintf("%s: [%s]", prefix, strings.Join(parts, ", ")))
			break
		}
		for i, e := range v {
			lines = append(lines, flatten(fmt.Sprintf("%s[%d]", prefix, i), e)...)
		}
	case string:
		if strings.Contains(v, "\n") {
			lines = append(lines, prefix+": |")
			for _, l := range strings.Split(strings.TrimRight(v, "\n"), "\n") {
				lines = append(lines, "  | "+l)
			}
			break
		}
		lines = append(lines, prefix+": "+v)
	default:
		lines = append(lines, prefix+": "+scalar(v))
	}
	return lines
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// scalars reports whether a list reads well on one line: short scalars only.
func scalars(v []any) bool {
	for _, e := range v {
		switch e := e.(type) {
		case map[string]any, []any:
			return false
		case string:
			if len(e) > 60 {
				return false
			}
		}
	}
	return true
}

func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	}
	return fmt.Sprint(v)
}
