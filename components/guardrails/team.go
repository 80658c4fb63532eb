package guardrails

// The GitHub team whose members are trusted to run code on the build agents
// (build-authorized in production): the team itself and its authoritative
// member list. The build-safety hook asks GitHub whether a fork's owner is
// an active member of it.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-github/sdk/v6/go/github"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/components/label"
)

// TeamTypeToken is the Pulumi type of the team component.
const TeamTypeToken = "ci-infra:github:TrustedTeam"

// TeamPrivacy is "closed": visible to every organisation member, and so to
// the hook's token; a "secret" team is invisible to it and every fork build
// would be refused.
const TeamPrivacy = "closed"

// TeamArgs configures the team.
type TeamArgs struct {
	// Name is the team's name and slug, e.g. "build-authorized".
	Name string
	// Description is shown on GitHub.
	Description string
	// Members and Maintainers are GitHub usernames. A person is in at most
	// one list. With both empty the program leaves membership alone.
	Members     []string
	Maintainers []string
	// ImportID adopts an existing team (its ID or slug) with its history.
	ImportID string
}

// Team is the trusted team.
type Team struct {
	pulumi.ResourceState

	// Slug is what the build-safety hook asks about.
	Slug pulumi.StringOutput `pulumi:"slug"`
	// ID is the team's numeric ID.
	ID pulumi.StringOutput `pulumi:"teamId"`
}

// ValidateMembers checks usernames and that nobody is listed twice (GitHub
// usernames are case-insensitive). The errors name the list.
func ValidateMembers(members, maintainers []string) (memberErrs, maintainerErrs []error) {
	seen := map[string]string{} // lowercased name → the list it was first seen in
	check := func(list string, names []string) []error {
		var errs []error
		for _, n := range names {
			if !ident.IsLogin(n) {
				errs = append(errs, fmt.Errorf("%q is not a GitHub username (%s)", n, ident.LoginRule))
				continue
			}
			key := strings.ToLower(n)
			switch first, dup := seen[key]; {
			case dup && first == list:
				errs = append(errs, fmt.Errorf("%q is listed twice", n))
			case dup:
				errs = append(errs, fmt.Errorf("%q is also listed as a %s; give each person one role", n, first))
			}
			seen[key] = list
		}
		return errs
	}
	return check("member", members), check("maintainer", maintainers)
}

// Validate reports every problem of the arguments at once.
func (a TeamArgs) Validate() error {
	var errs []error
	if !ident.IsTeamSlug(a.Name) {
		errs = append(errs, fmt.Errorf("team name %q must be a slug: lowercase letters, digits, hyphens, underscores", a.Name))
	}
	m, mt := ValidateMembers(a.Members, a.Maintainers)
	for _, e := range m {
		errs = append(errs, fmt.Errorf("Members: %w", e))
	}
	for _, e := range mt {
		errs = append(errs, fmt.Errorf("Maintainers: %w", e))
	}
	return errors.Join(errs...)
}

// NewTeam declares the team. It is protected: deleting it would drop every
// membership, and with it every trusted fork build.
func NewTeam(ctx *pulumi.Context, name string, args TeamArgs, opts ...pulumi.ResourceOption) (*Team, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("team %s: %w", name, err)
	}
	t := &Team{}
	if err := ctx.RegisterComponentResource(TeamTypeToken, name, t, opts...); err != nil {
		return nil, err
	}
	team, err := github.NewTeam(ctx, label.Name(name, "team"), &github.TeamArgs{
		Name:        pulumi.String(args.Name),
		Description: pulumi.String(args.Description),
		Privacy:     pulumi.String(TeamPrivacy),
		// Otherwise GitHub makes whoever runs `pulumi up` a maintainer,
		// trusted without review.
		CreateDefaultMaintainer: pulumi.Bool(false),
	}, pulumi.Parent(t), pulumi.Protect(true), adopt.Option(args.ImportID))
	if err != nil {
		return nil, err
	}

	if len(args.Members)+len(args.Maintainers) > 0 {
		var people github.TeamMembersMemberArray
		for _, role := range []struct {
			name  string
			users []string
		}{{"member", args.Members}, {"maintainer", args.Maintainers}} {
			for _, u := range role.users {
				people = append(people, &github.TeamMembersMemberArgs{Username: pulumi.String(u), Role: pulumi.String(role.name)})
			}
		}
		// Authoritative: someone added by hand in the GitHub UI is removed
		// on the next `pulumi up`, so the list here is the whole truth.
		if _, err := github.NewTeamMembers(ctx, label.Name(name, "members"), &github.TeamMembersArgs{
			TeamId:  team.ID(),
			Members: people,
		}, pulumi.Parent(t)); err != nil {
			return nil, err
		}
	}

	t.Slug = team.Slug
	t.ID = team.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(t, pulumi.Map{"slug": t.Slug, "teamId": t.ID}); err != nil {
		return nil, err
	}
	return t, nil
}
