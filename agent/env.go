package agent

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"text/template"

	"mtrlz.dev/ci-infra/components/ident"
)

//go:embed env.tmpl
var envTemplate string

var envTmpl = template.Must(template.New("env").Funcs(template.FuncMap{"shellquote": ShellQuote}).Parse(envTemplate))

// EnvParams are the facts the build-safety hook is generated with.
type EnvParams struct {
	// Org is the GitHub organisation that owns the trusted team.
	Org string
	// Team is the slug of the trusted team, e.g. "build-authorized".
	Team string
	// APIURL is the GitHub REST API base URL, e.g. "https://api.github.com".
	APIURL string
	// TokenURL is the s3:// URL of the read-only GitHub token the hook uses
	// to ask about team membership. It lives in the secrets bucket, where no
	// build can change it.
	TokenURL string
	// TokenFile, instead of TokenURL, is a local file holding the token:
	// for a standalone agent (the macOS one), which reads no bucket.
	TokenFile string
	// ForkBuildsFromTeam lets fork pull requests of active team members run.
	// When false every fork pull request is refused without asking GitHub.
	ForkBuildsFromTeam bool
	// GateSeconds bounds the whole check, S3 and GitHub included;
	// DefaultGateSeconds when 0. Tests use short ones.
	GateSeconds int
	// CallSeconds bounds each network call (the token fetch, the GitHub
	// question); DefaultCallSeconds when 0.
	CallSeconds int
}

// The gate's default bounds: a verdict within 30 s, whatever S3 or GitHub do.
const (
	DefaultGateSeconds = 30
	DefaultCallSeconds = 10
)

func (p *EnvParams) defaults() {
	if p.GateSeconds == 0 {
		p.GateSeconds = DefaultGateSeconds
	}
	if p.CallSeconds == 0 {
		p.CallSeconds = DefaultCallSeconds
	}
}

var tokenFile = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)

var s3URL = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9!_.*'()/-]+$`)

// Validate reports every problem of the parameters.
func (p EnvParams) Validate() error {
	var errs []error
	if !ident.IsLogin(p.Org) {
		errs = append(errs, fmt.Errorf("GitHub organisation %q is not a GitHub login (%s)", p.Org, ident.LoginRule))
	}
	if !ident.IsTeamSlug(p.Team) {
		errs = append(errs, fmt.Errorf("team slug %q must be %s", p.Team, ident.TeamSlugRule))
	}
	if err := ValidateAPIURL(p.APIURL); err != nil {
		errs = append(errs, err)
	}
	switch {
	case p.TokenFile != "":
		if !tokenFile.MatchString(p.TokenFile) || p.TokenURL != "" {
			errs = append(errs, fmt.Errorf("token file %q must be an absolute path (and no TokenURL with it)", p.TokenFile))
		}
	case !s3URL.MatchString(p.TokenURL):
		errs = append(errs, fmt.Errorf("token URL %q must be an s3://bucket/key URL", p.TokenURL))
	}
	// Two calls (the token, then GitHub) must fit in the gate's bound.
	if p.CallSeconds < 1 || p.GateSeconds < 1 || p.GateSeconds > 300 || 2*p.CallSeconds >= p.GateSeconds {
		errs = append(errs, fmt.Errorf("timeouts: each call (%d s) must be at least 1 s and two of them shorter than the whole check (%d s, at most 300)", p.CallSeconds, p.GateSeconds))
	}
	return errors.Join(errs...)
}

// ValidateAPIURL accepts an https URL without query or trailing slash; plain
// http only on loopback, for tests.
func ValidateAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "/") {
		return fmt.Errorf("GitHub API URL %q must look like https://api.github.com (no trailing slash, query or fragment)", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("GitHub API URL %q must use https: the hook sends a token", raw)
}

// RenderEnv returns the build-safety hook with params written into it. Every
// value is validated and shell-quoted.
func RenderEnv(p EnvParams) (string, error) {
	p.defaults()
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("build-safety hook: %w", err)
	}
	var b strings.Builder
	if err := envTmpl.Execute(&b, p); err != nil {
		return "", fmt.Errorf("build-safety hook: %w", err)
	}
	return b.String(), nil
}

// ShellQuote quotes a value for bash: single quotes, with any single quote
// inside written as '\”.
func ShellQuote(v any) string {
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", `'\''`) + "'"
}
