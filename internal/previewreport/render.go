package previewreport

import (
	"fmt"
	"strings"
)

// Preview renders a pull request's preview of stack, which exited with
// status: a line per changed resource with the keys that change, each
// changed value, the check of protected resources, and the diagnostics.
// ok is false when a protected resource would be replaced or deleted,
// planned or refused by the engine: the step fails on it.
func Preview(d Digest, stack string, status int) (markdown string, ok bool) {
	var b strings.Builder
	changes := d.Changes()
	summary := "no changes"
	if len(changes) > 0 {
		summary = fmt.Sprintf("%d to change", len(changes))
	}
	fmt.Fprintf(&b, "**pulumi preview of %s** (exit %d): %s\n\n", stack, status, summary)
	if len(changes) > 0 {
		b.WriteString("| change | type | resource | keys |\n| --- | --- | --- | --- |\n")
		for _, c := range changes {
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", c.Op, c.Type, c.Name, strings.Join(c.Keys, ", "))
		}
		b.WriteString("\nChanged values:\n")
		for _, c := range changes {
			for _, v := range c.Values {
				fmt.Fprintf(&b, "- `%s` %s: %s → %s\n", c.Name, v.Path, v.Current, v.Code)
			}
		}
		b.WriteString("\n")
	}
	lost := d.ProtectedLosses()
	if len(lost) == 0 {
		b.WriteString("Protected resources: none replaced or deleted.\n")
	} else {
		fmt.Fprintf(&b, "**Protected resources replaced or deleted: %d**\n", len(lost))
		for _, l := range lost {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	writeProblems(&b, d)
	return b.String(), len(lost) == 0
}

// The drift check's verdicts, as its exit status.
const (
	NoDrift   = 0
	Drifted   = 1
	Uncertain = 2
)

// Hint names the config key that sets a property, when one does: how to
// adopt the account's value into code.
type Hint func(resource, property string) (key, derived string, ok bool)

// Drift renders the drift check of stack: `pulumi preview --refresh
// --expect-no-changes --json`, which exited with status. After a refresh,
// every change the preview plans is something the account holds that the
// code does not: for each, the property, the code's value and the
// account's, what `up` would do, and how to keep the account's value
// instead. The verdict is NoDrift, Drifted, or Uncertain when the preview
// failed without planning anything (no credentials, a locked or unreadable
// state), with the reason.
func Drift(d Digest, stack string, status int, hint Hint) (markdown string, verdict int) {
	var b strings.Builder
	changes := d.Changes()
	switch {
	case len(changes) > 0:
		verdict = Drifted
		noun := "resources differ"
		if len(changes) == 1 {
			noun = "resource differs"
		}
		fmt.Fprintf(&b, "**Drift in %s**: %d %s from the code\n\n", stack, len(changes), noun)
	case status != 0:
		verdict = Uncertain
		fmt.Fprintf(&b, "**Drift check of %s could not tell** (exit %d): %s\n", stack, status, reason(d))
		writeProblems(&b, d)
		return b.String(), verdict
	default:
		fmt.Fprintf(&b, "**No drift in %s**: the account matches the code.\n", stack)
		return b.String(), NoDrift
	}
	for _, c := range changes {
		fmt.Fprintf(&b, "- `%s` (`%s`): %s\n", c.Name, c.Type, nextStep(c))
		for _, v := range c.Values {
			fmt.Fprintf(&b, "  - %s: code %s, account %s", v.Path, v.Code, v.Current)
			if key, derived, ok := hintFor(hint, c.Name, v.Path); ok {
				if derived != "" {
					fmt.Fprintf(&b, "; to keep the account's, change ci-infra:%s (%s)", key, derived)
				} else {
					fmt.Fprintf(&b, "; to keep the account's: `%s`", setCommand(key, unquote(v.Current), stack))
				}
			}
			b.WriteString("\n")
		}
	}
	writeProblems(&b, d)
	return b.String(), verdict
}

// setCommand sets key to value on stack; a dotted key is a field of a
// config object (agentStacks.test.maxSize), which --path reaches.
func setCommand(key, value, stack string) string {
	if strings.Contains(key, ".") {
		return fmt.Sprintf("pulumi config set --path %s %s --stack %s", key, value, stack)
	}
	return fmt.Sprintf("pulumi config set %s %s --stack %s", key, value, stack)
}

// hintFor asks hint for the property at path, then for each property
// that holds it ("a.b[0].c", "a.b[0]", "a.b", "a").
func hintFor(hint Hint, resource, path string) (string, string, bool) {
	path, _, _ = strings.Cut(path, " line ")
	for path != "" {
		if key, derived, ok := hint(resource, path); ok {
			return key, derived, true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return "", "", false
}

// nextStep says what `up` would do to the resource.
func nextStep(c Change) string {
	switch {
	case c.Protected && destroys.MatchString(c.Op):
		return "`up` would replace it, and refuses: it is protected. Read why it changed before anything else"
	case destroys.MatchString(c.Op):
		return "`up` would replace it"
	case c.Op == "create":
		return "gone from the account: `up` creates it again"
	case c.Op == "update":
		return "`up` puts the code's values back"
	}
	return "`up` would " + c.Op + " it"
}

// reason names why a preview that planned nothing failed, from its errors.
func reason(d Digest) string {
	var errs []string
	for _, p := range d.Problems() {
		if p.Severity == "error" {
			errs = append(errs, oneLine(p.Message))
		}
	}
	all := strings.ToLower(strings.Join(errs, " "))
	var why string
	switch {
	case strings.Contains(all, "lock"):
		why = "the state is locked (another update is running, or a lock was left: `pulumi cancel`)"
	case strings.Contains(all, "credential") || strings.Contains(all, "accessdenied") || strings.Contains(all, "access denied") ||
		strings.Contains(all, "expiredtoken") || strings.Contains(all, "not authorized"):
		why = "the credentials cannot read it (no credentials, expired ones, or a role without the read)"
	case strings.Contains(all, "backend") || strings.Contains(all, "checkpoint") || strings.Contains(all, "state") || strings.Contains(all, "bucket"):
		why = "the state backend could not be read"
	default:
		why = "the preview failed before it planned anything"
	}
	if len(errs) > 0 {
		why += ": " + errs[0]
	}
	return why
}

func writeProblems(b *strings.Builder, d Digest) {
	problems := d.Problems()
	if len(problems) == 0 {
		return
	}
	b.WriteString("\nDiagnostics:\n")
	for _, p := range problems {
		fmt.Fprintf(b, "- [%s] %s\n", p.Severity, oneLine(p.Message))
	}
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
