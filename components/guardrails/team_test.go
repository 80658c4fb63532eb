package guardrails

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

func TestTeam(t *testing.T) {
	tests := []struct {
		name        string
		args        TeamArgs
		wantMembers []any
	}{
		{"empty list is safe: no membership resource", TeamArgs{Name: "build-authorized"}, nil},
		{"members and maintainers", TeamArgs{Name: "build-authorized", Members: []string{"alice", "bob"}, Maintainers: []string{"carol"}}, []any{
			map[string]any{"username": "alice", "role": "member"},
			map[string]any{"username": "bob", "role": "member"},
			map[string]any{"username": "carol", "role": "maintainer"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plantest.Run(t, plantest.Component(func(ctx *pulumi.Context) error {
				_, err := NewTeam(ctx, "trusted-team", tt.args)
				return err
			}), nil)
			team, err := p.Get("github:index/team:Team", "trusted-team-team")
			require.NoError(t, err)
			assert.Equal(t, "build-authorized", team.Input("name"))
			assert.Equal(t, "closed", team.Input("privacy"), "a secret team is invisible to the hook's token")
			assert.Equal(t, false, team.Input("createDefaultMaintainer"), "whoever runs pulumi up is not trusted by accident")
			assert.True(t, team.Protect)

			members := p.Find("github:index/teamMembers:TeamMembers", "trusted-team-members")
			if tt.wantMembers == nil {
				assert.Empty(t, members)
				return
			}
			require.Len(t, members, 1)
			assert.ElementsMatch(t, tt.wantMembers, members[0].Input("members"))
		})
	}
}

func TestValidateMembers(t *testing.T) {
	tests := []struct {
		name                string
		members, maintainer []string
		wantMember          string
		wantMaintainer      string
	}{
		{"valid", []string{"alice", "bob-smith"}, []string{"carol"}, "", ""},
		{"bad username", []string{"alice;rm -rf /"}, nil, "not a GitHub username", ""},
		{"too long", []string{"a123456789012345678901234567890123456789"}, nil, "not a GitHub username", ""},
		{"duplicate", []string{"alice", "alice"}, nil, "listed twice", ""},
		{"duplicate differing in case", []string{"alice", "Alice"}, nil, "listed twice", ""},
		{"two roles", []string{"alice"}, []string{"ALICE"}, "", "also listed as a member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, mt := ValidateMembers(tt.members, tt.maintainer)
			check := func(errs []error, want string) {
				if want == "" {
					assert.Empty(t, errs)
					return
				}
				require.NotEmpty(t, errs)
				assert.ErrorContains(t, errs[0], want)
			}
			check(m, tt.wantMember)
			check(mt, tt.wantMaintainer)
		})
	}
}

func TestInvalidTeamArgsRegisterNothing(t *testing.T) {
	plantest.Rejects(t, func(ctx *pulumi.Context) error {
		_, err := NewTeam(ctx, "t", TeamArgs{Name: "Build Authorized"})
		return err
	}, "must be a slug")
	plantest.Rejects(t, func(ctx *pulumi.Context) error {
		_, err := NewTeam(ctx, "t", TeamArgs{Name: "build-authorized", Members: []string{"-bad-"}})
		return err
	}, "Members")
}
