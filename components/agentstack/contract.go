package agentstack

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// templates holds, for each supported template version, the parameter
// contract of the published template: each parameter's type, default,
// allowed values, pattern and bounds. Upgrading the template means adding
// the new version's file here and bumping the version; the tests then name
// every parameter the program sets that no longer fits.
//
//go:embed templates/*.json
var templates embed.FS

var versionPattern = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)

// Parameter is one template parameter's contract.
type Parameter struct {
	Type                  string   `json:"Type"`
	Default               any      `json:"Default"`
	AllowedValues         []any    `json:"AllowedValues"`
	AllowedPattern        string   `json:"AllowedPattern"`
	ConstraintDescription string   `json:"ConstraintDescription"`
	MinValue              *float64 `json:"MinValue"`
	MaxValue              *float64 `json:"MaxValue"`
	MinLength             *int     `json:"MinLength"`
	NoEcho                bool     `json:"NoEcho"`

	pattern *regexp.Regexp
}

// Contract is the parameter contract of one template version.
type Contract struct {
	Version     string               `json:"version"`
	TemplateURL string               `json:"template_url"`
	Parameters  map[string]Parameter `json:"parameters"`
}

var (
	contractsMu sync.Mutex
	contracts   = map[string]*Contract{}
)

// TemplateURL is where the published template of a version lives. Only the
// published copy carries the AMI IDs; `latest` is never used, so that an
// upgrade is a reviewed change.
func TemplateURL(version string) string {
	return fmt.Sprintf("https://s3.amazonaws.com/buildkite-aws-stack/%s/aws-stack.yml", version)
}

// Versions lists the template versions the program has a contract for.
func Versions() []string {
	entries, _ := templates.ReadDir("templates")
	var vs []string
	for _, e := range entries {
		vs = append(vs, strings.TrimSuffix(e.Name(), ".json"))
	}
	return vs
}

// ContractFor returns the contract of a pinned template version.
func ContractFor(version string) (*Contract, error) {
	if !versionPattern.MatchString(version) {
		return nil, fmt.Errorf("template version %q is not pinned: use a release tag such as v6.71.1, never latest or a branch", version)
	}
	contractsMu.Lock()
	defer contractsMu.Unlock()
	if c, ok := contracts[version]; ok {
		return c, nil
	}
	raw, err := templates.ReadFile("templates/" + version + ".json")
	if err != nil {
		return nil, fmt.Errorf("template version %s has no parameter contract in components/agentstack/templates (have %s): add the new version's parameters file", version, strings.Join(Versions(), ", "))
	}
	var c Contract
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("parameter contract of %s: %w", version, err)
	}
	for name, p := range c.Parameters {
		if p.AllowedPattern != "" {
			re, err := compileCloudFormationPattern(p.AllowedPattern)
			if err != nil {
				return nil, fmt.Errorf("parameter contract of %s: %s: %w", version, name, err)
			}
			p.pattern = re
			c.Parameters[name] = p
		}
	}
	contracts[version] = &c
	return &c, nil
}

// compileCloudFormationPattern compiles a CloudFormation AllowedPattern.
// CloudFormation uses Java regular expressions, where a hyphen after a class
// escape inside brackets ([\w-\.]) is a literal; Go needs it escaped.
func compileCloudFormationPattern(p string) (*regexp.Regexp, error) {
	return regexp.Compile(strings.ReplaceAll(p, `\w-`, `\w\-`))
}

// Check reports whether value is acceptable for the named parameter, the
// way CloudFormation would judge it at deploy time.
func (c *Contract) Check(name, value string) error {
	p, ok := c.Parameters[name]
	if !ok {
		return fmt.Errorf("template %s has no parameter %s", c.Version, name)
	}
	if p.Type == "Number" {
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%s must be a number, got %q", name, value)
		}
		if p.MinValue != nil && n < *p.MinValue {
			return fmt.Errorf("%s must be >= %v, got %s", name, *p.MinValue, value)
		}
		if p.MaxValue != nil && n > *p.MaxValue {
			return fmt.Errorf("%s must be <= %v, got %s", name, *p.MaxValue, value)
		}
	}
	if len(p.AllowedValues) > 0 {
		allowed := make([]string, len(p.AllowedValues))
		for i, v := range p.AllowedValues {
			allowed[i] = fmt.Sprint(v)
		}
		if !slices.Contains(allowed, value) {
			return fmt.Errorf("%s must be one of %s, got %q", name, strings.Join(allowed, ", "), value)
		}
	}
	if p.pattern != nil && !p.pattern.MatchString(value) {
		return fmt.Errorf("%s must match %s (%s), got %q", name, p.AllowedPattern, p.ConstraintDescription, value)
	}
	if p.MinLength != nil && len(value) < *p.MinLength {
		return fmt.Errorf("%s must be at least %d characters, got %q", name, *p.MinLength, value)
	}
	return nil
}
