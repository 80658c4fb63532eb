# GitHub: who is trusted, and what reaches the default branch.
package ci_infra

import rego.v1

# Source: the seed (membership of build-authorized decides which fork builds
# run) and GitHub's API: a secret team is invisible to the hook's token.
deny_team_not_closed contains msg if {
	input.__type == "github:index/team:Team"
	plain(input.privacy) != "closed"
	msg := sprintf("team %s must be closed, so that the build-safety hook can see its members", [input.__name])
}

deny_team_not_closed contains msg if {
	input.__type == "github:index/team:Team"
	not input.privacy
	msg := sprintf("team %s must set privacy closed; GitHub's default is secret", [input.__name])
}

# Source: seed 002 (status checks and a review before merge). A protection
# rule that restricts pushes guards a deploy branch and is exempt.
deny_branch_protection_weak contains msg if {
	input.__type == "github:index/branchProtection:BranchProtection"
	not input.restrictPushes
	not checks_and_review(input)
	msg := sprintf("branch protection %s must require status checks and at least one approving review", [input.__name])
}

checks_and_review(bp) if {
	count(bp.requiredStatusChecks[0].contexts) > 0
	bp.requiredPullRequestReviews[0].requiredApprovingReviewCount >= 1
}

# Advisory: with no managed members, every fork pull request needs a Rebuild.
stack_warn_trusted_team_empty contains msg if {
	some team in input.resources
	team.__type == "github:index/team:Team"
	not team_has_members(team)
	msg := sprintf("team %s has no members managed here; fork pull requests will need a Rebuild by a trusted person", [team.__name])
}

team_has_members(team) if {
	some m in input.resources
	m.__type == "github:index/teamMembers:TeamMembers"
	some urn in m.propertyDependencies.teamId
	urn == team.__urn
}
