// Package ident owns the naming rules of the systems the program names
// things in: GitHub (logins, team slugs, branch names), Buildkite (pipeline
// slugs, queue names, cluster IDs), Route 53 (hosted zone IDs) and DNS (domain names).
// Each rule is written once here and read by the components, by the stacks'
// config checks and by the renderers of what runs on the agents, so that a
// value one of them accepts is never refused by another. (Our own names
// come from label.)
package ident

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	login        = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)
	teamSlug     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,99}$`)
	branch       = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,255}$`)
	pipelineSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}$`)
	queue        = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,100}$`)
	zoneID       = regexp.MustCompile(`^Z[A-Z0-9]{1,32}$`)
	uuid         = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	repoName     = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// The rules in words, for error messages.
const (
	LoginRule          = "1-39 letters, digits and single inner hyphens"
	TeamSlugRule       = "lowercase letters, digits, hyphens and underscores"
	BranchRule         = "1-255 letters, digits and ._/-"
	SlugRule           = "lowercase letters, digits, hyphens"
	QueueRule          = "1-100 letters, digits, dots, hyphens or underscores"
	ZoneIDRule         = "a hosted zone ID such as Z0123456789ABCDEFGHIJ"
	RepositoryNameRule = "1-100 letters, digits, dots, hyphens or underscores"
	RepositoryRule     = "owner/name: a GitHub login, a slash, and a name of " + RepositoryNameRule
	ClusterRule        = "a Buildkite cluster ID: a lowercase UUID such as 01234567-89ab-cdef-0123-456789abcdef (Agents, the cluster, Settings)"
)

// IsLogin reports whether s is a valid GitHub user or organisation login:
// 1 to 39 alphanumerics or single inner hyphens. Logins are
// case-insensitive.
func IsLogin(s string) bool { return login.MatchString(s) }

// IsTeamSlug reports whether s is a valid GitHub team slug.
func IsTeamSlug(s string) bool { return teamSlug.MatchString(s) }

// IsBranch reports whether s is a branch name the program accepts: Git
// allows more, but these characters are safe in the bootstrap script's
// allow-list, IAM conditions and branch protection patterns.
func IsBranch(s string) bool { return branch.MatchString(s) }

// IsPipelineSlug reports whether s is a Buildkite organization or pipeline
// slug; slugs are written into IAM trust conditions.
func IsPipelineSlug(s string) bool { return pipelineSlug.MatchString(s) }

// IsQueue reports whether s is a Buildkite queue name the Elastic CI
// Stack's BuildkiteQueue parameter accepts.
func IsQueue(s string) bool { return queue.MatchString(s) }

// IsZoneID reports whether s is a Route 53 hosted zone ID.
func IsZoneID(s string) bool { return zoneID.MatchString(s) }

// IsRepositoryName reports whether s is a GitHub repository name.
func IsRepositoryName(s string) bool { return repoName.MatchString(s) }

// IsRepository reports whether s is a GitHub repository written owner/name.
func IsRepository(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	return ok && login.MatchString(owner) && repoName.MatchString(name)
}

// IsClusterID tells a Buildkite cluster ID: a lowercase UUID, as the
// server writes it into the cluster_id claim of an agent's OIDC tokens.
func IsClusterID(s string) bool { return uuid.MatchString(s) }

// ValidateDomain checks that name is a lowercase DNS name of at least two
// labels, written without a trailing dot.
func ValidateDomain(name string) error {
	if name == "" {
		return errors.New("domain name is empty")
	}
	if len(name) > 253 {
		return fmt.Errorf("domain name %q is longer than 253 characters", name)
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fmt.Errorf("domain name %q needs at least two labels, such as internal.example.com", name)
	}
	for _, l := range labels {
		if !dnsLabel.MatchString(l) {
			return fmt.Errorf("domain name %q has label %q: labels are 1-63 lowercase letters, digits or inner hyphens", name, l)
		}
	}
	return nil
}
