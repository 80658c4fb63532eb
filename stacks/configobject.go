package stacks

// Decoding a config object onto its defaults, field by field, so that a
// stack file sets only what it changes and every mistake names its full
// path: "ci-infra:agentStacks.test.maxSize: must be a whole number".

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// decodeOnto decodes the JSON object raw onto dst, which holds the
// defaults: a field raw does not name keeps its value. It refuses unknown
// fields (naming the closest known one) and values of the wrong kind,
// each problem starting with its full key path.
func decodeOnto(key, raw string, dst any) []error {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []error{fmt.Errorf("%s: is not an object: %v", key, err)}
	}
	return decodeValue(key, v, reflect.ValueOf(dst).Elem())
}

func decodeValue(path string, v any, dst reflect.Value) []error {
	bad := func(format string, args ...any) []error {
		return []error{fmt.Errorf("%s: "+format, append([]any{path}, args...)...)}
	}
	switch dst.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("must be an object with the fields %s, got %s", strings.Join(jsonFields(dst.Type()), ", "), describe(v))
		}
		fields := jsonFields(dst.Type())
		var errs []error
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			i := fieldIndex(dst.Type(), name)
			if i < 0 {
				errs = append(errs, fmt.Errorf("%s.%s: is not a field of %s; did you mean %s? (its fields: %s)",
					path, name, shortPath(path), closest(name, fields), strings.Join(fields, ", ")))
				continue
			}
			errs = append(errs, decodeValue(path+"."+name, obj[name], dst.Field(i))...)
		}
		return errs
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return bad("must be a string, got %s", describe(v))
		}
		dst.SetString(s)
	case reflect.Int:
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			return bad("must be a whole number, got %s", describe(v))
		}
		dst.SetInt(i)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return bad("must be true or false, got %s", describe(v))
		}
		dst.SetBool(b)
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return bad("must be a list such as [\"a\", \"b\"], got %s", describe(v))
		}
		out := reflect.MakeSlice(dst.Type(), len(list), len(list))
		var errs []error
		for i, item := range list {
			errs = append(errs, decodeValue(fmt.Sprintf("%s[%d]", path, i), item, out.Index(i))...)
		}
		dst.Set(out)
		return errs
	default:
		return bad("has a type the program cannot read (%s)", dst.Type())
	}
	return nil
}

// jsonFields are the JSON names of a struct's fields, in order.
func jsonFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func fieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if jsonName(t.Field(i)) == name {
			return i
		}
	}
	return -1
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// shortPath drops the namespace: "agentStacks.test".
func shortPath(path string) string {
	_, rest, ok := strings.Cut(path, ":")
	if !ok {
		return path
	}
	return rest
}

// describe shows a value of the wrong kind as the stack file had it.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("%q", v)
	default:
		raw, _ := json.Marshal(v)
		return string(raw)
	}
}
