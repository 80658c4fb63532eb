// Package githubid owns GitHub's naming rules (user and organisation logins,
// team slugs), written once for the team, the repository guardrails and the
// build-safety hook.
package githubid

import "regexp"

var (
	login = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)
	slug  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,99}$`)
)

// LoginRule describes a valid login, for error messages.
const LoginRule = "1-39 letters, digits and single inner hyphens"

// IsLogin reports whether s is a valid GitHub user or organisation login:
// 1 to 39 alphanumerics or single inner hyphens. Logins are
// case-insensitive.
func IsLogin(s string) bool { return login.MatchString(s) }

// IsTeamSlug reports whether s is a valid team slug.
func IsTeamSlug(s string) bool { return slug.MatchString(s) }
